"""What only the Docker image runs: the environment check, the locked migrations, the server's settings."""
