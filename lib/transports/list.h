/*
 * Every channel transport, one line each: IK__TRANSPORT(name) refers to
 * `const struct ik__transport ik__transport_<name>` defined in
 * lib/transports/<name>.c. Adding a transport = adding its file + one line.
 */
IK__TRANSPORT(pmq)
IK__TRANSPORT(svmq)
IK__TRANSPORT(fifo)
IK__TRANSPORT(unix)
IK__TRANSPORT(abstract)
IK__TRANSPORT(unixgram)
IK__TRANSPORT(unixpacket)
IK__TRANSPORT(tcp)
IK__TRANSPORT(udp)
IK__TRANSPORT(shm)
