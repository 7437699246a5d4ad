"""The media plane: Janus VideoRoom nodes behind the ``MediaServer`` Protocol (base), the real HTTP client (janus),
an in-memory fake for unit tests (fake) and the generated Janus configuration (config)."""
