"""The offline preview (`python -m tools.preview`): the real program under mocks, judged by the real policy pack over gRPC."""
