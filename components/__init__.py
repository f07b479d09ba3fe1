"""The Pulumi program's parts: one package per ComponentResource, the stack configuration and shared AWS building blocks."""
