"""The web half of the bad-input corpus (issue 14): one hostile or malformed request per line — JSON
bodies, query strings, path parameters, headers and static paths — each answered with a 4xx and a
one-line JSON error naming what was expected, what was got and where; after each, the server is healthy
and the session it was sent to still steps (no half-applied change, no stuck session)."""

import json

import pytest
from starlette.testclient import TestClient

from chainrule.web.server import MAX_BODY, create_app
from chainrule.web.sessions import Limits

S = "/api/sessions"
XOR = {"name": "x", "network": {"inputs": 2, "loss": "bce", "layers": [
    {"units": 3, "activation": "tanh"}, {"units": 1, "activation": "sigmoid"}]},
    "training": {"learning_rate": 0.5, "batch": "full", "reduction": "mean"},
    "data": {"generator": "xor", "samples": 40, "test_fraction": 0.2, "seed": 0}}


def spec(**changes):
    """XOR with parts replaced: network=…, data=…, training=…, or a key of the network (network_inputs=…)."""
    document = json.loads(json.dumps(XOR))
    for key, value in changes.items():
        if key.startswith("network_"):
            document["network"][key[8:]] = value
        elif key.startswith("data_"):
            document["data"][key[5:]] = value
        elif value is None:
            document.pop(key)
        else:
            document[key] = value
    return {"spec": document}


def layers(*units):
    return [{"units": u, "activation": "tanh"} for u in units]


J = {"Content-Type": "application/json"}
# name: (method, path ({sid}: a live mazur session), body (object → JSON, bytes as sent), headers, status, fragment)
CASES = {
    # ---- creating a session: JSON bodies ---------------------------------------------------------------
    "body not json":            ("POST", S, b"{not json", J, 400, "body: expected JSON, got invalid JSON"),
    "body a list":              ("POST", S, [], J, 400, "body: expected"),
    "body a number":            ("POST", S, 3, J, 400, "body: expected"),
    "body a string":            ("POST", S, "mazur", J, 400, "body: expected"),
    "body null":                ("POST", S, b"null", J, 400, "body: expected"),
    "body not utf-8":           ("POST", S, b'{"example": "\xff\xfe"}', J, 400, "body"),
    "body deep":                ("POST", S, b"[" * 10000 + b"]" * 10000, J, 400, "nested more than 32 deep"),
    "body deep object":         ("POST", S, b'{"a":' * 100 + b"1" + b"}" * 100, J, 400, "nested more than 32 deep"),
    "body 5000 digits":         ("POST", S, b'{"example": ' + b"9" * 5000 + b"}", J, 400, "4,300 digits"),
    "body too large":           ("POST", S, b" " * (MAX_BODY + 1), J, 413, f"body: expected at most {MAX_BODY} bytes"),
    "body NaN token":           ("POST", S, b'{"spec": {"network": {"inputs": NaN}}}', J, 400, "got invalid JSON: NaN (JSON has no such number"),
    "example unknown":          ("POST", S, {"example": "nope"}, J, 422, "example: expected one of"),
    "example a list":           ("POST", S, {"example": ["mazur"]}, J, 422, "example: expected one of"),
    "example path":             ("POST", S, {"example": "../../etc/passwd"}, J, 422, "example: expected one of"),
    "spec a list":              ("POST", S, {"spec": [1, 2]}, J, 422, "spec: expected a JSON object"),
    "spec a string":            ("POST", S, {"spec": "x"}, J, 422, "spec: expected a JSON object"),
    "spec no network":          ("POST", S, spec(network=None), J, 422, "spec.network.layers: expected a list of layers"),
    "spec layers a dict":       ("POST", S, spec(network_layers={"units": 2}), J, 422, "spec.network.layers: expected a list"),
    "spec no layers":           ("POST", S, spec(network_layers=[]), J, 422, "expected 1 to 8 layers, got 0"),
    "spec 9 layers":            ("POST", S, spec(network_layers=layers(*[2] * 8, 1)), J, 422, "expected 1 to 8 layers, got 9"),
    "spec 65 units":            ("POST", S, spec(network_layers=layers(65, 1)), J, 422, "layers[1].units: expected an integer from 1 to 64, got 65"),
    "spec 0 units":             ("POST", S, spec(network_layers=layers(0, 1)), J, 422, "layers[1].units"),
    "spec units 1e9":           ("POST", S, spec(network_layers=layers(10 ** 9, 1)), J, 422, "got 1000000000"),
    "spec units a string":      ("POST", S, spec(network_layers=layers("4", 1)), J, 422, "got '4'"),
    "spec units true":          ("POST", S, spec(network_layers=layers(True, 1)), J, 422, "got True"),
    "spec units 2.5":           ("POST", S, spec(network_layers=layers(2.5, 1)), J, 422, "got 2.5"),
    "spec layer a number":      ("POST", S, spec(network_layers=[3, 1]), J, 422, "layers[1].units"),
    "spec inputs 0":            ("POST", S, spec(network_inputs=0), J, 422, "spec.network.inputs: expected an integer from 1 to 64, got 0"),
    "spec inputs huge":         ("POST", S, spec(network_inputs=10 ** 12), J, 422, "spec.network.inputs"),
    "spec inputs string":       ("POST", S, spec(network_inputs="2"), J, 422, "spec.network.inputs"),
    "spec activation unknown":  ("POST", S, spec(network_layers=[{"units": 3, "activation": "nope"}, {"units": 1}]), J, 422, "nope"),
    "spec loss unknown":        ("POST", S, spec(network_loss="hinge"), J, 422, "hinge"),
    "spec unknown key":         ("POST", S, spec(colour="red"), J, 422, "colour"),
    "spec name a number":       ("POST", S, spec(name=3), J, 422, "name: expected"),
    "spec name CR LF":          ("POST", S, spec(name="a\r\nSet-Cookie: x=1"), J, 422, "name: expected"),
    "spec name NUL":            ("POST", S, spec(name="a\x00b"), J, 422, "name: expected"),
    "spec name 10k long":       ("POST", S, spec(name="n" * 10000), J, 422, "name: expected one line of at most 200 printable characters"),
    "spec weights NaN-free":    ("POST", S, spec(network_layers=[{"units": 1, "weights": [["x", 1]]}]), J, 422, "weights"),
    "spec weights wrong shape": ("POST", S, spec(network_layers=[{"units": 1, "weights": [[1, 2, 3]]}]), J, 422, "weights"),
    "spec weights 1e400":       ("POST", S, b'{"spec": {"name": "x", "network": {"inputs": 2, "layers": [{"units": 1, "weights": [[1e400, 1]]}]},'
                                 b' "data": {"inputs": [[0, 1]], "targets": [[1]]}}}', J, 422, "finite"),
    "data missing":             ("POST", S, spec(data=None), J, 422, "spec.data: expected a data table"),
    "data a list":              ("POST", S, spec(data=[1]), J, 422, "spec.data: expected a data table"),
    "data csv path":            ("POST", S, spec(data={"csv": "/etc/passwd"}), J, 422, "spec.data.csv: expected one of"),
    "data idx path":            ("POST", S, spec(data={"idx": {"images": "/etc/passwd", "labels": "/etc/hosts"}}), J, 422, "spec.data.idx"),
    "data dataset":             ("POST", S, spec(data={"dataset": "mnist"}), J, 422, "spec.data.dataset"),
    "data npz":                 ("POST", S, spec(data={"npz": "/tmp/x.npz"}), J, 422, "the page reads no files"),
    "data generator unknown":   ("POST", S, spec(data_generator="moons2"), J, 422, "data.generator: expected one of"),
    "data samples 1e6":         ("POST", S, spec(data_samples=10 ** 6), J, 422, "data.samples: expected an integer from 4 to 5000"),
    "data samples 3":           ("POST", S, spec(data_samples=3), J, 422, "data.samples"),
    "data samples string":      ("POST", S, spec(data_samples="40"), J, 422, "got '40'"),
    "data noise 2":             ("POST", S, spec(data_noise=2), J, 422, "data.noise: expected a number from 0 to 1"),
    "data noise string":        ("POST", S, spec(data_noise="x" * 5000), J, 422, "data.noise"),
    "data test fraction 1":     ("POST", S, spec(data_test_fraction=1), J, 422, "data.test_fraction"),
    "data seed -1":             ("POST", S, spec(data_seed=-1), J, 422, "data.seed: expected an integer from 0 to 2³² − 1, got -1"),
    "data inputs ragged":       ("POST", S, spec(data={"inputs": [[0, 1], [1]], "targets": [[0], [1]]}), J, 422, "data.inputs"),
    "data inputs strings":      ("POST", S, spec(data={"inputs": [["a", "b"]], "targets": [[0]]}), J, 422, "data.inputs"),
    "data inputs 3 wide":       ("POST", S, spec(data={"inputs": [[0, 1, 2]], "targets": [[0]]}), J, 422, "data.inputs"),
    "data targets bce 2":       ("POST", S, spec(data={"inputs": [[0, 1]], "targets": [[2]]}), J, 422, "expected targets in [0, 1] for loss bce"),
    "data targets missing":     ("POST", S, spec(data={"inputs": [[0, 1]]}), J, 422, "targets"),
    "csv text a number":        ("POST", S, spec(data={"csv_text": 5}), J, 422, "data.csv_text: expected CSV text"),
    "csv text too large":       ("POST", S, spec(data={"csv_text": "1,2,3\n" * 35000}), J, 413, "data.csv_text: expected CSV text of at most"),
    "csv text words":           ("POST", S, spec(data={"csv_text": "a,b,y\n1,2,three\n"}), J, 422, "data.csv_text:2: column 3: expected a finite number"),
    "csv text empty":           ("POST", S, spec(data={"csv_text": ""}), J, 422, "data.csv_text"),
    "csv text 2 columns":       ("POST", S, spec(data={"csv_text": "1\n2\n"}), J, 422, "data.csv_text"),
    "csv text NUL":             ("POST", S, spec(data={"csv_text": "1,2,\x00\n"}), J, 422, "data.csv_text"),
    "training lr -1":           ("POST", S, spec(training={"learning_rate": -1}), J, 422, "training.learning_rate: expected a finite number ≥ 0"),
    "training lr string":       ("POST", S, spec(training={"learning_rate": "fast"}), J, 422, "training.learning_rate"),
    "training unknown key":     ("POST", S, spec(training={"speed": 1}), J, 422, "speed"),
    "training key a line break": ("POST", S, spec(training={"\n": None}), J, 422, "spec: training.'\\n': unknown key"),
    "training optimizer":       ("POST", S, spec(training={"optimizer": "lbfgs"}), J, 422, "lbfgs"),
    "training batch 0":         ("POST", S, spec(training={"batch": 0}), J, 422, "training.batch"),
    "training momentum 2":      ("POST", S, spec(training={"momentum": 2}), J, 422, "training.momentum"),
    "training phases name":     ("POST", S, spec(training={"phases": [{"name": "a\nb", "epochs": 1}]}), J, 422, "name"),
    # ---- a live session: bodies -------------------------------------------------------------------------
    "step body junk":           ("POST", S + "/{sid}/step", b"{", J, 400, "body"),
    "train epochs 0":           ("POST", S + "/{sid}/train", {"epochs": 0}, J, 422, "epochs: expected an integer from 1 to 1000, got 0"),
    "train epochs 1e9":         ("POST", S + "/{sid}/train", {"epochs": 10 ** 9}, J, 422, "epochs: expected an integer from 1 to 1000"),
    "train epochs string":      ("POST", S + "/{sid}/train", {"epochs": "5"}, J, 422, "got '5'"),
    "train epochs float":       ("POST", S + "/{sid}/train", {"epochs": 2.0}, J, 422, "got 2.0"),
    "train epochs true":        ("POST", S + "/{sid}/train", {"epochs": True}, J, 422, "got True"),
    "train epochs huge digits": ("POST", S + "/{sid}/train", b'{"epochs": ' + b"1" * 5000 + b"}", J, 400, "4,300 digits"),
    "train body a list":        ("POST", S + "/{sid}/train", [1], J, 400, "body"),
    "train unknown key epoch":  ("POST", S + "/{sid}/train", {"epoch": 5}, J, 422, "body.'epoch': expected only the keys epochs, more, seconds, view"),
    "train more a string":      ("POST", S + "/{sid}/train", {"epochs": 1, "more": "yes"}, J, 422, "more: expected true or false, got 'yes'"),
    "train seconds 0":          ("POST", S + "/{sid}/train", {"epochs": 1, "seconds": 0}, J, 422, "seconds: expected a number from 0.01 to 5"),
    "train seconds huge":       ("POST", S + "/{sid}/train", {"epochs": 1, "seconds": 1e9}, J, 422, "seconds: expected a number from 0.01"),
    "train view a list":        ("POST", S + "/{sid}/train", {"epochs": 1, "view": [1]}, J, 400, "view: expected"),
    "train view unknown":       ("POST", S + "/{sid}/train", {"epochs": 1, "view": {"map": 3}}, J, 422, "view.'map': expected only the keys boundary, heatmaps"),
    "train view resolution 0":  ("POST", S + "/{sid}/train", {"epochs": 1, "view": {"heatmaps": 0}}, J, 422, "resolution: expected an integer from 4 to 100, got 0"),
    "train view on mazur":      ("POST", S + "/{sid}/train", {"epochs": 1, "view": {"heatmaps": 8}}, J, 422, "view.heatmaps: expected a network whose data has 2 inputs"),
    "reset with a body":        ("POST", S + "/{sid}/reset", {"epochs": 1}, J, 422, "body.'epochs': expected only the keys (none)"),
    "heatmaps resolution abc":  ("GET", S + "/{sid}/heatmaps?resolution=abc", None, {}, 400, "resolution: expected an integer, got 'abc'"),
    "heatmaps resolution 1e3":  ("GET", S + "/{sid}/heatmaps?resolution=1000", None, {}, 422, "resolution: expected an integer from 4 to 100, got 1000"),
    "history flag junk":        ("GET", S + "/{sid}?history=maybe", None, {}, 400, "history: expected 1 or 0, got 'maybe'"),
    "check no such step":       ("POST", S + "/{sid}/steps/7/check", {"claims": {"net_h1": "0.3"}}, J, 404, "step: expected a step taken and kept"),
    "parameters both forms":    ("POST", S + "/{sid}/parameters", {"label": "w1", "value": 1, "values": {"w1": 1}}, J, 422, "body: expected either values or label and value, got both"),
    "parameters unknown key":   ("POST", S + "/{sid}/parameters", {"label": "w1", "valeu": 1}, J, 422, "body.'valeu': expected only the keys"),
    "data generator a list":    ("POST", S, spec(data={"generator": [], "samples": 20}), J, 422, "data.generator: expected one of xor"),
    "data features unknown":    ("POST", S, spec(data={"generator": "xor", "features": ["x3"]}), J, 422, "data.features: expected 1 to 7 different names"),
    "data features twice":      ("POST", S, spec(data={"generator": "xor", "features": ["x1", "x1"]}), J, 422, "data.features"),
    "data features no generator": ("POST", S, spec(data={"inputs": [[0, 1]], "targets": [[1]], "features": ["x1"]}), J, 422, "spec.data.features: expected only with a generator"),
    "data features inputs":     ("POST", S, spec(data={"generator": "xor", "features": ["x1", "x2", "x1*x2"]}), J, 422, "spec.network.inputs: expected 3 (the features x1, x2, x1*x2), got 2"),
    "data regression for bce":  ("POST", S, spec(data={"generator": "saddle"}), J, 422, "expected targets in [0, 1] for loss bce"),
    "parameters unknown":       ("POST", S + "/{sid}/parameters", {"label": "w99", "value": 1}, J, 422, "label: expected one of"),
    "parameters label list":    ("POST", S + "/{sid}/parameters", {"label": ["w1"], "value": 1}, J, 422, "label: expected a parameter's label, got ['w1']"),
    "parameters label number":  ("POST", S + "/{sid}/parameters", {"label": 1, "value": 1}, J, 422, "label"),
    "parameters no label":      ("POST", S + "/{sid}/parameters", {"value": 1}, J, 422, "label"),
    "parameters value string":  ("POST", S + "/{sid}/parameters", {"label": "w1", "value": "x"}, J, 422, "w1: expected a finite number"),
    "parameters value 1e7":     ("POST", S + "/{sid}/parameters", {"label": "w1", "value": 1e7}, J, 422, "magnitude ≤ 1e6"),
    "parameters value 1e400":   ("POST", S + "/{sid}/parameters", b'{"label": "w1", "value": 1e400}', J, 422, "w1: expected a finite number"),
    "parameters value bool":    ("POST", S + "/{sid}/parameters", {"label": "w1", "value": True}, J, 422, "got True"),
    "parameters value null":    ("POST", S + "/{sid}/parameters", {"label": "w1", "value": None}, J, 422, "got None"),
    "parameters values list":   ("POST", S + "/{sid}/parameters", {"values": [1, 2]}, J, 422, "values: expected an object"),
    "parameters values empty":  ("POST", S + "/{sid}/parameters", {"values": {}}, J, 422, "values: expected an object of 1 to 10 parameter label → number, got {}"),
    "parameters one bad":       ("POST", S + "/{sid}/parameters", {"values": {"w1": 0.5, "w2": "x"}}, J, 422, "w2: expected a finite number"),
    "parameters too many":      ("POST", S + "/{sid}/parameters", {"values": {f"w{k}": 0 for k in range(20)}}, J, 422, "values: expected"),
    "parameters body list":     ("POST", S + "/{sid}/parameters", [], J, 400, "body: expected"),
    # ---- path parameters and query strings ---------------------------------------------------------------
    "session unknown":          ("GET", S + "/nope", None, {}, 404, "session: expected the id of a live session"),
    "session id 10k":           ("GET", S + "/" + "a" * 10000, None, {}, 404, "session: expected the id"),
    "session id dots":          ("POST", S + "/%2e%2e/step", None, {}, 404, "session: expected the id of a live session"),
    "session step unknown":     ("POST", S + "/nope/step", None, {}, 404, "session: expected the id"),
    "step not taken":           ("GET", S + "/{sid}/steps/5", None, {}, 404, "step: expected a step taken and kept (none yet), got 5"),
    "step not a number":        ("GET", S + "/{sid}/steps/abc", None, {}, 400, "step: expected an integer, got 'abc'"),
    "step 100 digits":          ("GET", S + "/{sid}/steps/" + "9" * 100, None, {}, 400, "step: expected an integer"),
    "step arabic digits":       ("GET", S + "/{sid}/steps/١", None, {}, 400, "step: expected an integer"),
    "step two minus signs":     ("GET", S + "/{sid}/steps/--5", None, {}, 400, "step: expected an integer, got '--5'"),
    "step negative":            ("GET", S + "/{sid}/steps/-1", None, {}, 404, "step: expected a step taken"),
    "explain not taken":        ("GET", S + "/{sid}/steps/1/explain?param=w1", None, {}, 404, "step: expected a step taken"),
    "explain unicode step":     ("GET", S + "/{sid}/steps/%F0%9F%98%80/explain", None, {}, 400, "step: expected an integer"),
    "boundary resolution 1e3":  ("GET", S + "/{sid}/boundary?resolution=1000", None, {}, 422, "resolution: expected an integer from 4 to 100, got 1000"),
    "boundary resolution abc":  ("GET", S + "/{sid}/boundary?resolution=abc", None, {}, 400, "resolution: expected an integer, got 'abc'"),
    "boundary resolution 3":    ("GET", S + "/{sid}/boundary?resolution=3", None, {}, 422, "resolution: expected an integer from 4"),
    "boundary resolution huge": ("GET", S + "/{sid}/boundary?resolution=" + "9" * 5000, None, {}, 400, "resolution: expected an integer"),
    "boundary resolution empty": ("GET", S + "/{sid}/boundary?resolution=", None, {}, 400, "resolution: expected an integer, got ''"),
    # ---- headers ------------------------------------------------------------------------------------------
    "content-length words":     ("POST", S, b"{}", {"Content-Type": "application/json", "Content-Length": "abc"}, 400, "Content-Length: expected a number of bytes"),
    "content-length negative":  ("POST", S, b"{}", {"Content-Type": "application/json", "Content-Length": "-5"}, 400, "Content-Length"),
    "content-length huge":      ("POST", S, b"{}", {"Content-Type": "application/json", "Content-Length": "9" * 30}, 400, "Content-Length"),
    "content-length too big":   ("POST", S, b"{}", {"Content-Type": "application/json", "Content-Length": str(10 ** 9)}, 413, "body: expected at most"),
    # ---- methods, endpoints and static paths ---------------------------------------------------------
    "unknown endpoint":         ("GET", "/api/nothing", None, {}, 404, "GET /api/nothing: no such endpoint"),
    "delete sessions":          ("DELETE", S, None, {}, 405, "method DELETE not allowed here"),
    "get step endpoint":        ("GET", S + "/{sid}/step", None, {}, 405, "method GET not allowed here"),
    "put parameters":           ("PUT", S + "/{sid}/parameters", None, {}, 405, "method PUT not allowed"),
    "static missing":           ("GET", "/static/nope.js", None, {}, 404, "no such endpoint"),
    "static dot-dot":           ("GET", "/static/../server.py", None, {}, 404, "no such endpoint"),
    "static encoded dot-dot":   ("GET", "/static/%2e%2e/server.py", None, {}, 404, "no such endpoint"),
    "static double encoded":    ("GET", "/static/%252e%252e/server.py", None, {}, 404, "no such endpoint"),
    "static absolute":          ("GET", "/static//etc/passwd", None, {}, 404, "no such endpoint"),
    "static backslash":         ("GET", "/static/..%5cserver.py", None, {}, 404, "no such endpoint"),
    "static NUL":               ("GET", "/static/app.js%00.html", None, {}, 404, "no such endpoint"),
    "static directory":         ("GET", "/static/", None, {}, 404, "no such endpoint"),
}


@pytest.fixture(scope="module")
def client():
    return TestClient(create_app(Limits(sessions=400, idle_seconds=600)))


@pytest.mark.parametrize("name", list(CASES))
def test_a_bad_request_gets_a_4xx_and_one_line_and_the_session_goes_on(client, name):
    method, path, body, headers, status, fragment = CASES[name]
    sid = client.post(S, json={"example": "mazur"}).json()["id"]
    before = client.get(f"{S}/{sid}").json()["state"]
    content = body if isinstance(body, bytes) else None if body is None else json.dumps(body).encode()
    response = client.request(method, path.replace("{sid}", sid), content=content, headers=headers)
    assert response.status_code == status, response.text[:300]
    error = response.json()["error"]
    assert fragment in error, error
    assert "\n" not in error and "\r" not in error and len(error) < 400, error
    assert "Traceback" not in error and "internal error" not in error
    assert client.get("/api/health").json()["ok"]
    assert client.get(f"{S}/{sid}").json()["state"] == before           # a refused request changed nothing
    assert client.post(f"{S}/{sid}/step").status_code == 200            # and the session goes on


def test_static_paths_never_leave_the_static_folder(client):
    for path in [c[1] for c in CASES.values() if c[1].startswith("/static")]:
        response = client.get(path)
        assert b"def create_app" not in response.content and b"root:" not in response.content, path
