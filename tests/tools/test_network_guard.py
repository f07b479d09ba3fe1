"""The suite-wide guard: nothing in a test can reach a host other than this one."""

import socket
import urllib.request

import boto3
import pytest


def test_outbound_connections_are_refused():
    with pytest.raises(RuntimeError, match="only loopback is allowed"):
        socket.create_connection(("203.0.113.10", 443), timeout=1)


def test_name_lookups_are_refused():
    with pytest.raises(RuntimeError, match="only loopback is allowed"):
        urllib.request.urlopen("https://sts.amazonaws.com", timeout=1)


def test_aws_clients_get_fake_credentials_and_cannot_call_out():
    credentials = boto3.Session().get_credentials()
    assert credentials.access_key == "testing"
    with pytest.raises(Exception, match="only loopback is allowed"):
        boto3.client("sts", region_name="us-east-1").get_caller_identity()


def test_loopback_is_allowed():
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    client = socket.create_connection(server.getsockname(), timeout=1)
    client.close()
    server.close()
