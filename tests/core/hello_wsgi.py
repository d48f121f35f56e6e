"""A tiny WSGI application for the throughput test: 200 for the bench session's cookie, 403
without it, so the test sees that every client sends the signed-in cookie."""


def application(environ, start_response):
    signed_in = "sessionid=" in environ.get("HTTP_COOKIE", "")
    start_response("200 OK" if signed_in else "403 Forbidden", [("Content-Type", "text/plain")])
    return [b"hello" if signed_in else b"who are you?"]
