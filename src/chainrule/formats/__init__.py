"""What is read and written: the files a user names, spec files, the network's one serialisation,
model files and the built-in examples."""
