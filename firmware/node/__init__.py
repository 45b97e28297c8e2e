# Tynys node firmware. Runs unchanged on an ESP32 and on the MicroPython unix port.
VERSION = "0.1.0"
