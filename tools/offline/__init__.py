"""Running the real program offline: Pulumi mocks that answer like AWS, the recording monitor, the policy pack as an analyzer."""
