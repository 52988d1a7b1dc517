"""kcore.models: Sequential, functional and subclassed models."""
from kcore.models.functional import Functional
from kcore.models.model import Model
from kcore.models.sequential import Sequential
from kcore.saving import load_model, save_model
