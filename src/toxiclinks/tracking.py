"""MLflow set-up: where runs go, telemetry off, and logging a trained model to the registry."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from .config import MODEL_NAME, home, quiet_third_parties, tracking_uri


def setup() -> str:
    """Point MLflow at ``MLFLOW_TRACKING_URI`` or the SQLite store in ``TOXICLINKS_HOME``."""
    quiet_third_parties()
    import mlflow

    uri = tracking_uri()
    mlflow.set_tracking_uri(uri)
    if uri.startswith("sqlite:"):
        os.environ.setdefault("MLFLOW_ARTIFACTS_DESTINATION", str(home() / "mlartifacts"))
    return uri


def _pyfunc_class():
    """The MLflow pyfunc wrapper (kept out of import time, so mlflow loads only when used)."""
    import mlflow.pyfunc

    class _Pyfunc(mlflow.pyfunc.PythonModel):
        """Scores canonical links; for generic MLflow tooling. toxiclinks itself loads the native model."""

        def load_context(self, context):
            from .model import load

            self.model = load(Path(context.artifacts["model"]))

        def predict(self, context, model_input, params=None):
            import pandas as pd

            proba = self.model.predict_proba(model_input)
            return pd.DataFrame({"toxicity": (proba * 100).round(1)})

    return _Pyfunc


def log_model(folder: Path, params: dict[str, Any], metrics: dict[str, float], input_example,
              dataset=None, tables: dict[str, Any] | None = None, model_name: str = MODEL_NAME,
              experiment: str = "toxiclinks", aliases: tuple[str, ...] = ("challenger",),
              run_name: str | None = None) -> tuple[str, str]:
    """Log a run (params, metrics, dataset, the model) and register it; return (run id, version)."""
    setup()
    import mlflow
    import pandas as pd
    from mlflow.models import infer_signature

    mlflow.set_experiment(experiment)
    with mlflow.start_run(run_name=run_name) as run:
        mlflow.log_params({k: v for k, v in params.items() if v is not None})
        mlflow.log_metrics({k: float(v) for k, v in metrics.items() if v == v})
        if dataset is not None:
            mlflow.log_input(dataset, context="training")
        for name, table in (tables or {}).items():
            mlflow.log_table(table, artifact_file=f"{name}.json")
        example = input_example.astype(object).where(input_example.notna(), None)
        signature = infer_signature(example, pd.DataFrame({"toxicity": [0.0] * len(example)}))
        info = mlflow.pyfunc.log_model(
            name="model", python_model=_pyfunc_class()(), artifacts={"model": str(folder)},
            signature=signature, input_example=example, registered_model_name=model_name,
        )
        version = str(info.registered_model_version)
        client = mlflow.MlflowClient()
        for alias in aliases:
            client.set_registered_model_alias(model_name, alias, version)
        try:
            client.get_model_version_by_alias(model_name, "champion")
        except Exception:
            client.set_registered_model_alias(model_name, "champion", version)
        return run.info.run_id, version
