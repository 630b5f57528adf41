# Verity: the two commands of the README, plus what CI and benchmarks need.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
export PUBLIC_BASE_URL ?= http://$(HOST):$(PORT)

.PHONY: run test install install-test media browser e2e bench clean faults messages gettext screenshots

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

install: $(BIN)/python
	$(BIN)/pip install --quiet -e '.[checks]'

# axe-core (npm, pinned in package-lock.json) for the browser tests' accessibility
# audits: they read node_modules/axe-core/axe.min.js and download nothing.
install-test: $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test,checks]'
	npm ci --no-audit --no-fund

# ffmpeg (with the font of the clock it burns in) composes call recordings:
# for `make run`, the tests, and the Dockerfile, which installs the same packages.
media:
	@(test -x /usr/bin/ffmpeg && test -f /usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf) || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ffmpeg fonts-dejavu-core >/dev/null)

# Debian's Chromium for the browser tests (Playwright cannot download its own here),
# ffmpeg (above), and the OCR-B font in which the checks' tests print their synthetic MRZs.
browser: media gettext
	@test -x /usr/bin/chromium || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null)
	@test -x /usr/bin/turnserver || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq coturn >/dev/null)  # the TURN test
	@test -f /usr/share/fonts/opentype/ocr-b/OCRB.otf || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-ocr-b >/dev/null)

run: install media
	$(BIN)/python manage.py migrate --no-input -v0
	$(BIN)/python manage.py collectstatic --no-input -v0
	$(BIN)/python manage.py seed_demo
	$(BIN)/python manage.py seed_dashboard
	@if [ -n "$$REDIS_URL" ]; then \
		mkdir -p var; \
		echo "A Celery worker with beat runs beside (REDIS_URL is set); its log: var/celery-worker.log"; \
		$(BIN)/celery -A kyc worker --beat --loglevel=INFO --concurrency=2 >>var/celery-worker.log 2>&1 & \
	fi; \
	exec $(BIN)/python -m kyc.serve -b $(HOST) -p $(PORT) kyc.asgi:application

# The German catalogue after a change of text: new strings appear untranslated
# in locale/de/LC_MESSAGES/django.po (the test suite fails until they are
# translated); then compile, and commit both files.
messages: install-test gettext
	$(BIN)/python manage.py makemessages -l de --no-obsolete
	$(BIN)/python manage.py compilemessages --ignore=.venv --ignore=node_modules

# GNU gettext, which makemessages runs (the catalogue's test does too).
gettext:
	@test -x /usr/bin/xgettext || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gettext >/dev/null)

test: install-test browser
	$(BIN)/lint-imports
	$(BIN)/python -m pytest

# The README's gallery (docs/screenshots.md): the browser tests walk every
# screen on real calls and keep their screenshots in docs/screenshots.
screenshots: install-test browser
	rm -rf docs/screenshots
	VERITY_SCREENSHOTS=docs/screenshots $(BIN)/python -m pytest -q tests/e2e
	$(BIN)/python -m tests.e2e.gallery docs/screenshots

# The fault-injection suite (issue 9): real calls and jobs, one fault injected
# into each (Redis restart, a daphne killed, a network blackhole, a worker
# killed mid-check, the broker or the webhook receiver down, a cut upload),
# recovery asserted and timed. Kept out of `make test`. It starts its own
# Redis server; iptables cuts the network namespace its browsers run in.
faults: install-test browser
	@command -v redis-server >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null)
	@test -x /usr/sbin/iptables || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq iptables >/dev/null)
	$(BIN)/python -m pytest faults -q

# stress-ng takes one core for the loaded-machine run (signaling_capacity runs
# quiet and loaded; without it a Python busy loop stands in).
bench: install-test browser
	@test -x /usr/bin/stress-ng || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq stress-ng >/dev/null)
	$(BIN)/python bench/run.py $(NAME)

clean:
	rm -rf $(VENV) var test-artifacts node_modules
