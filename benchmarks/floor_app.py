"""The HTTP floor of the check-in load: a bare Flask app served by the same gunicorn.

It answers the requests ``load.mjs`` sends with pages of the same shape (a form carrying a
``csrf_token`` for every GET, 1,250 bytes like a tap's answer for every POST) and does
nothing else: no session, database, sign-in or template. The rate it sustains on a
machine is the most any Flask view could reach there; ``http.floor_rps`` prints it beside
``attendance.checkin_max_rps``.
"""
from flask import Flask, request

app = Flask(__name__)

FORM_PAGE = '<form method="post"><input type="hidden" name="csrf_token" value="floor"></form>'
TAP_ANSWER = "<p>" + "x" * 1243 + "</p>"


@app.get("/", defaults={"path": ""})
@app.get("/<path:path>")
def form_page(path: str) -> str:
    return FORM_PAGE


@app.post("/", defaults={"path": ""})
@app.post("/<path:path>")
def tap(path: str) -> str:
    request.form.get("mark")  # the form is parsed, as a tap's is
    return TAP_ANSWER
