"""The foundation: the project KMS key, the alarm topic and the VPC."""

from components.foundation.args import FoundationArgs
from components.foundation.foundation import Foundation

__all__ = ["Foundation", "FoundationArgs"]
