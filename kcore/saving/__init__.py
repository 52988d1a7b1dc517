"""Saving and loading models (.keras) and weights (.weights.h5) in Keras 3's formats, and Keras 2's legacy .h5."""
from kcore.saving.saving_api import load_model, load_weights, save_model, save_weights
