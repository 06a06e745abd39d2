"""A sample PiAPI client and its test suite built on the piapi-mock pytest plugin."""
