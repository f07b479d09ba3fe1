"""The dashboards: the Streamlit app on ECS Fargate behind a Cognito-authenticated HTTPS ALB, and
the CloudWatch dashboard."""

from components.dashboard.args import CloudWatchDashboardArgs, DashboardApi, DashboardArgs, DashboardEndpoint
from components.dashboard.cloudwatch_dashboard import CloudWatchDashboard
from components.dashboard.schedule import WorkingHours
from components.dashboard.streamlit_service import Dashboard

__all__ = [
    "CloudWatchDashboard",
    "CloudWatchDashboardArgs",
    "Dashboard",
    "DashboardApi",
    "DashboardArgs",
    "DashboardEndpoint",
    "WorkingHours",
]
