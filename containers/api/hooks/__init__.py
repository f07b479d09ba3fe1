"""CodeDeploy traffic hooks of the prediction API (handlers `hooks.pre_traffic.handler`, `hooks.post_traffic.handler`)."""
