"""The model zoo (MLP, LeNet variant, VGG9-lite), training, and loading models from any common file.

>>> from graphcurv.models import build_model, count_weights
>>> count_weights(build_model("lenet", in_channels=1, image_size=28, num_classes=10))
45312
"""

from graphcurv.models.augmentation import random_crop_flip
from graphcurv.models.checkpoint import CHECKPOINT_FORMAT, save_model
from graphcurv.models.exported import FixedBatch, copy_model, frozen_kind, static_batch_size
from graphcurv.models.loading import import_user_modules, load_checkpoint, load_model
from graphcurv.models.registry import MODEL_NAMES, build_model, model_names, normalise_arch
from graphcurv.models.state_dict import infer_config
from graphcurv.models.training import EpochRecord, TrainingHistory, evaluate, train_model
from graphcurv.models.zoo import ACTIVATIONS, MLP, LeNet, VGG9Lite, count_weights

__all__ = [
    "ACTIVATIONS",
    "CHECKPOINT_FORMAT",
    "MLP",
    "MODEL_NAMES",
    "EpochRecord",
    "FixedBatch",
    "LeNet",
    "TrainingHistory",
    "VGG9Lite",
    "build_model",
    "copy_model",
    "count_weights",
    "evaluate",
    "frozen_kind",
    "import_user_modules",
    "infer_config",
    "load_checkpoint",
    "load_model",
    "model_names",
    "normalise_arch",
    "random_crop_flip",
    "save_model",
    "static_batch_size",
    "train_model",
]
