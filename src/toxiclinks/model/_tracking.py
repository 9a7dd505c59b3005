"""MLflow set-up: where runs go, telemetry off, and logging a trained model to the registry."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..config import MODEL_NAME, home, quiet_third_parties, tracking_uri


def setup() -> str:
    """Point MLflow at ``MLFLOW_TRACKING_URI`` or the SQLite store in ``TOXICLINKS_HOME``."""
    quiet_third_parties()
    import mlflow

    uri = tracking_uri()
    mlflow.set_tracking_uri(uri)
    return uri


def _experiment(name: str) -> None:
    """Use experiment ``name``; with a local store, keep its artifacts in ``TOXICLINKS_HOME``."""
    import mlflow

    if mlflow.get_experiment_by_name(name) is None:
        local = tracking_uri().startswith("sqlite:")
        location = (home() / "mlartifacts").as_uri() if local else None
        mlflow.create_experiment(name, artifact_location=location)
    mlflow.set_experiment(name)


def _signature():
    """Model signature: the canonical link table (only source_url required) → toxicity 0-100."""
    from mlflow.models import ModelSignature
    from mlflow.types.schema import AnyType, ColSpec, DataType, Schema

    from ..schema import FIELDS

    kinds = {"str": DataType.string, "float": DataType.double}
    inputs = [ColSpec(kinds.get(f.kind) or AnyType(), f.name, required=f.name == "source_url")
              for f in FIELDS]
    return ModelSignature(inputs=Schema(inputs), outputs=Schema([ColSpec(DataType.double, "toxicity")]))


def log_model(folder: Path, params: dict[str, Any], metrics: dict[str, float], input_example,
              dataset=None, tables: dict[str, Any] | None = None, model_name: str = MODEL_NAME,
              experiment: str = "toxiclinks", aliases: tuple[str, ...] = ("challenger",),
              run_name: str | None = None, tags: dict[str, str] | None = None) -> tuple[str, str]:
    """Log a run (params, metrics, dataset, the model) and register it; return (run id, version)."""
    setup()
    import mlflow

    _experiment(experiment)
    with mlflow.start_run(run_name=run_name) as run:
        mlflow.log_params({k: v for k, v in params.items() if v is not None})
        if tags:
            mlflow.set_tags(tags)
        mlflow.log_metrics({k: float(v) for k, v in metrics.items() if v == v})
        if dataset is not None:
            mlflow.log_input(dataset, context="training")
        for name, table in (tables or {}).items():
            mlflow.log_table(table, artifact_file=f"{name}.json")
        example = input_example.astype(object).where(input_example.notna(), None)
        signature = _signature()
        info = mlflow.pyfunc.log_model(
            name="model", python_model=str(Path(__file__).with_name("_mlflow_model.py")), artifacts={"model": str(folder)},
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


def set_alias(model_name: str, alias: str, version: str) -> None:
    """Point a registry alias (``champion``) at a model version."""
    setup()
    import mlflow

    mlflow.MlflowClient().set_registered_model_alias(model_name, alias, version)


def alias_version(model_name: str, alias: str) -> str | None:
    """The version an alias points at, or None when it does not exist."""
    setup()
    import mlflow

    try:
        return str(mlflow.MlflowClient().get_model_version_by_alias(model_name, alias).version)
    except Exception:
        return None
