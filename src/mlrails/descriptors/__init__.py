"""The eight ML-enabled-system descriptors, read and written in the public v1.2 JSON format.

System context, raw data, data pipeline, training data, trained model, development
environment, production environment and production data: typed models whose field names and
descriptions are those of the v1.2 schemas, with typed statistics (:class:`FieldStatistics`).
See :mod:`mlrails.descriptors.io` for how a document's kind and version are handled.
"""

from mlrails.descriptors.common import (
    DESCRIPTOR_KINDS,
    FORMAT_VERSION,
    READABLE_VERSIONS,
    Descriptor,
    DescriptorKind,
)
from mlrails.descriptors.data_pipeline import DataPipeline
from mlrails.descriptors.descriptor_set import (
    DescriptorSet,
    descriptor_filename,
    read_descriptor_dir,
    write_descriptor_dir,
)
from mlrails.descriptors.development_environment import DevelopmentEnvironment
from mlrails.descriptors.errors import DescriptorError, DescriptorIssue, DescriptorWarning
from mlrails.descriptors.io import (
    DESCRIPTOR_TYPES,
    LoadedDescriptor,
    descriptor_json,
    guess_kind,
    kind_from_filename,
    load_descriptor,
    parse_descriptor,
    read_descriptor,
    write_descriptor,
)
from mlrails.descriptors.production_data import ProductionData
from mlrails.descriptors.production_environment import ProductionEnvironment
from mlrails.descriptors.raw_data import RawData
from mlrails.descriptors.schema_check import schema_file, validate_against_schema
from mlrails.descriptors.statistics import (
    FieldStatistics,
    Histogram,
    Statistic,
    statistics_from_rows,
    statistics_to_rows,
)
from mlrails.descriptors.system_context import SystemContext
from mlrails.descriptors.trained_model import TrainedModel
from mlrails.descriptors.training_data import TrainingData

__all__ = [
    "DESCRIPTOR_KINDS",
    "DESCRIPTOR_TYPES",
    "FORMAT_VERSION",
    "READABLE_VERSIONS",
    "DataPipeline",
    "Descriptor",
    "DescriptorError",
    "DescriptorIssue",
    "DescriptorKind",
    "DescriptorSet",
    "DescriptorWarning",
    "DevelopmentEnvironment",
    "FieldStatistics",
    "Histogram",
    "LoadedDescriptor",
    "ProductionData",
    "ProductionEnvironment",
    "RawData",
    "Statistic",
    "SystemContext",
    "TrainedModel",
    "TrainingData",
    "descriptor_filename",
    "descriptor_json",
    "guess_kind",
    "kind_from_filename",
    "load_descriptor",
    "parse_descriptor",
    "read_descriptor",
    "read_descriptor_dir",
    "schema_file",
    "statistics_from_rows",
    "statistics_to_rows",
    "validate_against_schema",
    "write_descriptor",
    "write_descriptor_dir",
]
