"""Job worker entry point: `dramatiq api.worker`. Builds the app so jobs bind to its broker."""
from api import create_app

app = create_app()
broker = app.extensions["ssb.broker"]
