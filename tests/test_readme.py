"""The README tells the truth: its `/v1/...` paths are operations of the OpenAPI document, its
`flask --app wsgi ...` commands (and their options) exist, every setting of api/config.py is in
its configuration table, and the first-hour walkthrough runs, curl and all, against a live server."""
from __future__ import annotations

import dataclasses
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from api.config import PROJECT_ROOT, Config

README = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")


# --------------------------------------------------------------------------- paths


def readme_paths() -> list[str]:
    return sorted(set(re.findall(r"/v1/[^\s`\"')|,;]*", README)))


def _spellings(path: str) -> list[str]:
    """`/v1/policies[/for-me]` -> both paths; query strings dropped; `$VAR` as a parameter."""
    path = path.split("?")[0]
    if path.endswith(".") and not path.endswith("..."):
        path = path[:-1]   # a sentence's full stop
    optional = re.search(r"\[([^\]]*)\]", path)
    if optional:
        head, tail = path[:optional.start()], path[optional.end():]
        return _spellings(head + tail) + _spellings(head + optional.group(1) + tail)
    return [re.sub(r"\$[A-Z_]+", "{param}", path)]


def _operation_patterns(spec: dict) -> list[re.Pattern]:
    return [re.compile("^" + re.sub(r"\\\{[^/]+?\\\}", r"[^/]+", re.escape(p)) + "$") for p in spec["paths"]]


def _documented(path: str, spec: dict, patterns: list[re.Pattern]) -> bool:
    concrete = re.sub(r"\{[^/]+\}", "x1", path)
    if path.endswith("/..."):   # "/v1/mp/{appid}/...": some operation under that prefix
        return any(re.sub(r"\{[^/]+\}", "x1", p).startswith(concrete[:-3]) for p in spec["paths"])
    return any(p.match(concrete) for p in patterns)


def test_every_v1_path_in_the_readme_is_an_operation_of_the_openapi_document(client):
    spec = client.get("/openapi.json").json
    patterns = _operation_patterns(spec)
    paths = readme_paths()
    assert len(paths) > 20
    missing = [s for p in paths for s in _spellings(p) if not _documented(s, spec, patterns)]
    assert not missing, f"README paths that are no operation: {missing}"


def test_the_path_check_itself_catches_a_wrong_path(client):
    spec = client.get("/openapi.json").json
    patterns = _operation_patterns(spec)
    assert _documented("/v1/licences/{id}/presentations", spec, patterns)
    assert not _documented("/v1/staff/venues", spec, patterns)
    assert not _documented("/v1/licences/{id}/presentation", spec, patterns)


# --------------------------------------------------------------------------- commands


def readme_commands() -> list[list[str]]:
    """The words after `flask --app wsgi` up to the end of the code span or shell command."""
    found = []
    for tail in re.findall(r"flask --app wsgi ([^`\n|#;&)]*)", README):
        words = [w for w in shlex.split(tail.replace("[", " ").replace("]", " ")) if w != "..."]
        if words:
            found.append(words)
    return found


def test_every_flask_command_in_the_readme_exists_with_its_options(app):
    commands = readme_commands()
    assert {"demo", "create-admin", "registry", "keys"} <= {c[0] for c in commands}
    runner = app.test_cli_runner()
    for words in commands:
        # --help is eager: the command resolves, its options parse, nothing runs.
        result = runner.invoke(args=[*words, "--help"])
        assert result.exit_code == 0, (words, result.output)


def test_the_command_check_itself_catches_a_wrong_command_or_option(app):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["demo", "--yaml", "--help"]).exit_code != 0
    assert runner.invoke(args=["registry", "import-people", "--help"]).exit_code != 0


# --------------------------------------------------------------------------- configuration


def test_every_setting_of_api_config_is_in_the_configuration_table():
    table = README[README.index("## Configuration"):]
    table = table[:table.index("\n## ", 1)]
    documented = set(re.findall(r"`([A-Z][A-Z0-9_]+)`", table))
    settings = {f.name for f in dataclasses.fields(Config) if f.name.isupper()}
    assert settings - documented == set()
    assert "BIND" in documented


# --------------------------------------------------------------------------- the walkthrough


def walkthrough() -> str:
    marker = README.index("<!-- walkthrough")
    block = README[marker:]
    return block[block.index("```sh\n") + 6:block.index("\n```", block.index("```sh\n"))]


def runnable(script: str, *, api: str, sms_file: Path) -> str:
    """The walkthrough as a newcomer types it, with the two human steps done by the test: the
    server's address, and reading each code from the SMS backend (a file here, the terminal there)."""
    read_code = (f"$({shlex.quote(sys.executable)} -c 'import json,sys; "
                 f"print(json.loads(open(sys.argv[1]).read().splitlines()[-1])[\"code\"])' {shlex.quote(str(sms_file))})")
    lines = []
    for line in script.splitlines():
        if line.startswith("API="):
            line = f"API={api}"
        elif re.match(r"^OTP=\d{6}\b", line):
            line = f"OTP={read_code}"
        else:
            line = line.replace(".venv/bin/python", shlex.quote(sys.executable))
        lines.append(line)
    return "set -euo pipefail\n" + "\n".join(lines) + "\n"


def json_values(text: str) -> list:
    decoder, values, i = json.JSONDecoder(), [], 0
    while i < len(text):
        if text[i].isspace():
            i += 1
            continue
        value, i = decoder.raw_decode(text, i)
        values.append(value)
    return values


@pytest.fixture
def live_url(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="readme-server", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)


@pytest.mark.skipif(not (shutil.which("curl") and shutil.which("bash")) and not os.environ.get("CI"),
                    reason="the walkthrough needs curl and bash")
def test_the_first_hour_walkthrough_runs_as_written(app, live_url, sms_file):
    demo = app.test_cli_runner().invoke(args=["demo"])
    assert demo.exit_code == 0, demo.output
    script = walkthrough()
    assert "OTP=123456" in script and "/v1/verify" in script
    done = subprocess.run(["bash", "-c", runnable(script, api=live_url, sms_file=sms_file)], capture_output=True,
                          text=True, timeout=120, cwd=PROJECT_ROOT)
    assert done.returncode == 0, (done.stdout, done.stderr)
    otp_sent, me, otp_sent_staff, verified, access_log, licence, inbox, unread = json_values(done.stdout)
    assert otp_sent["sent"] is True and otp_sent_staff["sent"] is True
    assert me["real_name"]["verified"] is True
    assert verified["valid"] is True and verified["holder"]["name"] == "*明"
    assert access_log["items"][0]["kind"] == "code_scan"
    assert licence["valid"] is True and set(licence["fields"]) == {"holder_name", "vehicle_class"}
    assert [m["category"] for m in inbox["items"]] == ["policy"] and unread["unread"] == 1
