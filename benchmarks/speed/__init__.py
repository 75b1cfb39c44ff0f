"""Training and encoding speed, against the course's Trax code and sentence-transformers."""
