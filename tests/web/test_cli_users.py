"""Passwords from the command line: prompted twice (never an argument), held to the policy, links made once."""

from __future__ import annotations

import json

from click.testing import CliRunner

from cli.main import cli
from tests.web.support import log_in, make_app, open_demo


def _run(url: str, *args: str, input: str | None = None):
    return CliRunner().invoke(cli, ["--database", url, "users", *args], input=input, env={"OPENBOOK_USER": None})


def test_set_password_prompts_twice_refuses_a_short_one_and_the_new_one_logs_in(request, tmp_path):
    book = open_demo(request, tmp_path)
    url = book.database.url.render_as_string(hide_password=False)
    short = _run(url, "set-password", "admin@wirral.example", input="short\nshort\n")
    assert short.exit_code == 1 and "at least 12 characters" in short.output
    differ = _run(url, "set-password", "admin@wirral.example", input="a" * 12 + "\n" + "b" * 12 + "\n" * 3)
    assert differ.exit_code != 0
    chosen = "a sentence for a password"
    done = _run(url, "set-password", "admin@wirral.example", "--json", input=f"{chosen}\n{chosen}\n")
    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout) == {"password_set": "admin@wirral.example"}  # the prompts go to stderr
    assert chosen not in done.stdout.replace("New password", "")  # never echoed back

    app = make_app(book, tmp_path / "instance")
    assert log_in(app.test_client(), "admin@wirral.example", chosen)
    unknown = _run(url, "set-password", "nobody@nowhere.example", input=f"{chosen}\n{chosen}\n")
    assert unknown.exit_code == 1 and "not registered" in unknown.output
    log = json.loads(_run(url, "security-log", "--user", "admin@wirral.example", "--json").stdout)
    assert [row["kind"] for row in log][:2] == ["login", "password-set"]


def test_an_invite_prints_a_one_use_link_that_sets_the_password(request, tmp_path):
    book = open_demo(request, tmp_path)
    url = book.database.url.render_as_string(hide_password=False)
    result = _run(url, "invite", "finance@carewatch.example", "--base-url", "https://openbook.example/", "--json")
    link = json.loads(result.stdout)["link"]
    assert link.startswith("https://openbook.example/first-login/")
    token = link.rsplit("/", 1)[1]
    assert book.security.link_user(token) == "finance@carewatch.example"
    book.security.use_link(token, "carewatch's own password")
    assert book.security.link_user(token) is None
