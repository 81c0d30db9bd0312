"""The bare Flask app ``make bench`` measures every page against: ``gunicorn benchmarks.hello:app``."""

from flask import Flask

app = Flask(__name__)


@app.get("/")
def hello() -> str:
    return "Hello, World!"
