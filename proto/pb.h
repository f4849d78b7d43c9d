/* pb.h — private to proto/: unpacking generated messages into an arena. */
#ifndef STSD_PROTO_PB_H
#define STSD_PROTO_PB_H

#include <protobuf-c/protobuf-c.h>

#include "arena.h"

/* Unpack buf with desc, allocating from a (freed with the arena). NULL if the bytes are invalid. */
ProtobufCMessage *proto_unpack(const ProtobufCMessageDescriptor *desc, const void *buf, size_t len,
                               struct arena *a);

#endif
