import json
import pathlib
import sys
from datetime import UTC, datetime

sys.path.insert(0, ".")
from badges import verifier
from core import create_app
from tests.badges.test_thirdparty import offline_web

app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://"})
d = pathlib.Path("tests/badges/thirdparty")
exp = json.loads((d / "expected.json").read_text())
ok = 0
with app.app_context():
    for name, e in exp.items():
        with offline_web(name):  # the status lists the suites publish beside their credentials, served locally
            r = verifier.verify(json.loads((d / name).read_text()), now=datetime(2026, 12, 4, tzinfo=UTC))
        good = r.status == e["status"]
        ok += good
        print(
            "OK " if good else "NO ",
            name,
            r.status,
            [f"warning ({w['kind']})" for w in r.warnings]
            if good
            else [c["detail"][:150] for c in r.checks if not c["passed"] and c.get("severity") != "warning"],
        )
print(f"agrees on {ok} of {len(exp)}")
