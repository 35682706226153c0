"""Tests of the deployment files: docker-compose.yml, Dockerfiles, deploy/nginx.conf."""
