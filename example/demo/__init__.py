"""A tiny web + worker pair standing in for the seed's Django + Celery project.

It uses only the standard library, so the image builds without reaching PyPI.
"""

__version__ = "1.0.0"
