"""Searchlight's Python client: see client.py."""
from .client import Client, Dataset, Experiment, HookedModel, Maze, SearchlightError
from .safetensors import SafetensorsError, load_bytes

__all__ = ["Client", "Dataset", "Experiment", "HookedModel", "Maze", "SearchlightError", "SafetensorsError", "load_bytes"]
__version__ = "0.1.0"
