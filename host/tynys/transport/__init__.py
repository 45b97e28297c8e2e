"""Transports that carry record lines to the one ingest path (``tynys.ingest``): serial ports,
an HTTP endpoint and an MQTT subscriber. Each only frames lines and sends acknowledgements."""
