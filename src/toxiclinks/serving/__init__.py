"""Serving: the real-time HTTP service (BentoML) over the same model and scoring code as the audit.

:mod:`toxiclinks.serving.service` is the BentoML service (``bentoml serve
toxiclinks.serving.service:Toxiclinks``; ``toxiclinks serve`` calls its :func:`run`, bound to
127.0.0.1). The request and response schemas and the HTTP edges (body limit, error shape) are
private modules beside it. Importing this package loads none of them, nor BentoML.
"""

__all__: list[str] = []
