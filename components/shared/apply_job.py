"""How long the CI job that applies a stack (deploy.yml's `dev` and `prod`) may run, and its credentials.

A job that times out is cancelled in the middle of `pulumi up` while SageMaker and CodeDeploy go on
deploying: the state then lags what AWS runs, and prod stays frozen until a person recovers it
(docs/gitops.md). So the job must outlive the slowest update any configuration the stack schema
accepts can declare: the endpoint's release and then the API's (it waits for the endpoint), each at
its longest (`longest_release_seconds` in components/endpoint/model_endpoint.py and
components/api/codedeploy_group.py), plus `UPDATE_MARGIN_SECONDS`. That sum fits under GitHub's own
limit, so the job simply gets it all, and no configuration can outlast the job; tests/gitops/
test_deploy_order.py adds the sum up and holds deploy.yml to these numbers.

bootstrap/ (a separate project that imports this module) gives the deploy roles a maximum session
of `APPLY_SESSION_HOURS`: credentials that expired mid-update would fail it as surely as a timeout.
"""

from __future__ import annotations

# GitHub-hosted runners end a job after 6 hours, whatever its timeout-minutes says.
HOSTED_RUNNER_LIMIT_MINUTES = 360
# deploy.yml's `timeout-minutes` of the jobs that run `pulumi up`.
APPLY_JOB_TIMEOUT_MINUTES = HOSTED_RUNNER_LIMIT_MINUTES
# Preview, refresh, plugin downloads and the non-release resources of an update, on top of the releases.
UPDATE_MARGIN_SECONDS = 15 * 60
# The deploy roles' session (deploy.yml's role-duration-seconds, the roles' MaxSessionDuration):
# whole hours, as IAM counts them, covering the job's timeout. IAM allows at most 12.
APPLY_SESSION_HOURS = -(-APPLY_JOB_TIMEOUT_MINUTES // 60)
