from accounts import signing


def test_it_signs_timestamp_dot_body_with_hmac_sha256():
    # The value an operator computes by hand: HMAC-SHA256("secret", "1700000000.{}").
    assert signing.sign("secret", 1700000000, b"{}") == (
        "sha256=" + __import__("hmac").new(b"secret", b"1700000000.{}", "sha256").hexdigest()
    )


def test_it_verifies_fresh_messages_and_names_what_is_wrong_with_others():
    body = b'{"a": 1}'
    headers = signing.signed_headers("k" * 32, body, now=1_000_000)
    ok = dict(
        timestamp=headers[signing.TIMESTAMP_HEADER], signature=headers[signing.SIGNATURE_HEADER]
    )
    assert signing.verify("k" * 32, body=body, now=1_000_010, **ok) is None
    assert signing.verify("k" * 32, body=body, now=1_000_400, **ok) == "stale timestamp"
    assert signing.verify("x" * 32, body=body, now=1_000_010, **ok) == "bad signature"
    assert signing.verify("k" * 32, body=body, timestamp=None, signature=None) == (
        "missing signature headers"
    )
    assert signing.verify("k" * 32, body=body, timestamp="soon", signature="x") == (
        "timestamp is not a whole number"
    )
