"""Code shared by every framework's train.py: command line, data sets, metrics, ResNet layout and
initial weights.  numpy and the standard library only: no framework is imported here."""
