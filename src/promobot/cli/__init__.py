"""The command line: parse, call the server or the service layer, print."""
