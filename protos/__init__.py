"""Protocol Buffers contracts of the service and their generated code (see ``protos.generate``)."""
