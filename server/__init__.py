"""What the three services mean: accounts, chat, files, SMS and passwords. No sockets here:
the services talk to peers only through the methods net.loop.Peer offers."""
