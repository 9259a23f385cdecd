"""The live conference: bridge rooms served over socket.io, their pages, and their record."""
