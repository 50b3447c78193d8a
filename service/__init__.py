"""losscore's HTTP service: a thin FastAPI layer over :mod:`losscore`.

``create_app(settings)`` (in :mod:`service.app`) builds the application;
``python -m service`` serves it with uvicorn. ``losscore`` never imports this package.
"""
