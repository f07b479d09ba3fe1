"""The real-time endpoint: data capture, autoscaling, blue/green canary releases, drift monitoring."""

from components.endpoint.args import ModelEndpointArgs
from components.endpoint.model_endpoint import ModelEndpoint, drift_alarm_name

__all__ = ["ModelEndpoint", "ModelEndpointArgs", "drift_alarm_name"]
