"""What the tests share, and nothing else: no test lives here and no test module imports
another test module. Fixtures live in tests/conftest.py; plain helpers live here:

    factories   factory_boy factories for every model the tests create (and PASSWORD)
    signin      a signed-in test client, TOTP codes, calling the WSGI app in a test's transaction
    browser     signing in through the real form in Chromium; where screenshots go
    intake      the MiChat platform, organisations, API bodies, images, evidence, API tokens
    queue       many open cases at once, for the queue
    takedowns   proposals, a real operator (the simulator), Redis and Celery worker processes
    audit       the decision log's reference day and decisions on it
    env         the environment of a production process
"""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent  # the checkout
