"""Device and technician simulators, incident scenarios and a load generator; they speak only MQTT."""
