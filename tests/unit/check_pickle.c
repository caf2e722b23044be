/*
 * check_pickle.c - the pickle opcode analyser (scanner/pickle.c).
 *
 * Streams are built in C.  The plain_pN arrays were generated with
 *   /usr/bin/python3 -c 'import pickle, collections; obj = {"a": [1, -2,
 *   2.5, None, True, False, b"x", "y\u00e9", (1, 2, 3), (), {1},
 *   frozenset({2}), 10**30, -300, 70000, bytearray(b"z")],
 *   "o": collections.OrderedDict(k=1)}; print(pickle.dumps(obj, protocol=N))'
 * for N = 0..5 (bytes pasted as C arrays).  A tiny classifier stands in for
 * the real tables: it allows the globals those arrays use, denies os system,
 * builtins eval and builtins getattr (as the real deny-list does), allows
 * an enum class enumlib Color with its member Color.RED (as packs list
 * members), numpy's array constructors and bit-generator helper, says
 * rebuild-only of rb Cfg, and knows nothing else.
 */
#include <check.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../scanner/pickle.h"

static const uint8_t plain_p0[] = {
	0x28, 0x64, 0x70, 0x30, 0x0a, 0x56, 0x61, 0x0a, 0x70, 0x31, 0x0a, 0x28,
	0x6c, 0x70, 0x32, 0x0a, 0x49, 0x31, 0x0a, 0x61, 0x49, 0x2d, 0x32, 0x0a,
	0x61, 0x46, 0x32, 0x2e, 0x35, 0x0a, 0x61, 0x4e, 0x61, 0x49, 0x30, 0x31,
	0x0a, 0x61, 0x49, 0x30, 0x30, 0x0a, 0x61, 0x63, 0x5f, 0x63, 0x6f, 0x64,
	0x65, 0x63, 0x73, 0x0a, 0x65, 0x6e, 0x63, 0x6f, 0x64, 0x65, 0x0a, 0x70,
	0x33, 0x0a, 0x28, 0x56, 0x78, 0x0a, 0x70, 0x34, 0x0a, 0x56, 0x6c, 0x61,
	0x74, 0x69, 0x6e, 0x31, 0x0a, 0x70, 0x35, 0x0a, 0x74, 0x70, 0x36, 0x0a,
	0x52, 0x70, 0x37, 0x0a, 0x61, 0x56, 0x79, 0xe9, 0x0a, 0x70, 0x38, 0x0a,
	0x61, 0x28, 0x49, 0x31, 0x0a, 0x49, 0x32, 0x0a, 0x49, 0x33, 0x0a, 0x74,
	0x70, 0x39, 0x0a, 0x61, 0x28, 0x74, 0x61, 0x63, 0x5f, 0x5f, 0x62, 0x75,
	0x69, 0x6c, 0x74, 0x69, 0x6e, 0x5f, 0x5f, 0x0a, 0x73, 0x65, 0x74, 0x0a,
	0x70, 0x31, 0x30, 0x0a, 0x28, 0x28, 0x6c, 0x70, 0x31, 0x31, 0x0a, 0x49,
	0x31, 0x0a, 0x61, 0x74, 0x70, 0x31, 0x32, 0x0a, 0x52, 0x70, 0x31, 0x33,
	0x0a, 0x61, 0x63, 0x5f, 0x5f, 0x62, 0x75, 0x69, 0x6c, 0x74, 0x69, 0x6e,
	0x5f, 0x5f, 0x0a, 0x66, 0x72, 0x6f, 0x7a, 0x65, 0x6e, 0x73, 0x65, 0x74,
	0x0a, 0x70, 0x31, 0x34, 0x0a, 0x28, 0x28, 0x6c, 0x70, 0x31, 0x35, 0x0a,
	0x49, 0x32, 0x0a, 0x61, 0x74, 0x70, 0x31, 0x36, 0x0a, 0x52, 0x70, 0x31,
	0x37, 0x0a, 0x61, 0x4c, 0x31, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30,
	0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30,
	0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x4c,
	0x0a, 0x61, 0x49, 0x2d, 0x33, 0x30, 0x30, 0x0a, 0x61, 0x49, 0x37, 0x30,
	0x30, 0x30, 0x30, 0x0a, 0x61, 0x63, 0x5f, 0x5f, 0x62, 0x75, 0x69, 0x6c,
	0x74, 0x69, 0x6e, 0x5f, 0x5f, 0x0a, 0x62, 0x79, 0x74, 0x65, 0x61, 0x72,
	0x72, 0x61, 0x79, 0x0a, 0x70, 0x31, 0x38, 0x0a, 0x28, 0x67, 0x33, 0x0a,
	0x28, 0x56, 0x7a, 0x0a, 0x70, 0x31, 0x39, 0x0a, 0x67, 0x35, 0x0a, 0x74,
	0x70, 0x32, 0x30, 0x0a, 0x52, 0x70, 0x32, 0x31, 0x0a, 0x74, 0x70, 0x32,
	0x32, 0x0a, 0x52, 0x70, 0x32, 0x33, 0x0a, 0x61, 0x73, 0x56, 0x6f, 0x0a,
	0x70, 0x32, 0x34, 0x0a, 0x63, 0x63, 0x6f, 0x6c, 0x6c, 0x65, 0x63, 0x74,
	0x69, 0x6f, 0x6e, 0x73, 0x0a, 0x4f, 0x72, 0x64, 0x65, 0x72, 0x65, 0x64,
	0x44, 0x69, 0x63, 0x74, 0x0a, 0x70, 0x32, 0x35, 0x0a, 0x28, 0x74, 0x52,
	0x70, 0x32, 0x36, 0x0a, 0x56, 0x6b, 0x0a, 0x70, 0x32, 0x37, 0x0a, 0x49,
	0x31, 0x0a, 0x73, 0x73, 0x2e
};
static const uint8_t plain_p1[] = {
	0x7d, 0x71, 0x00, 0x28, 0x58, 0x01, 0x00, 0x00, 0x00, 0x61, 0x71, 0x01,
	0x5d, 0x71, 0x02, 0x28, 0x4b, 0x01, 0x4a, 0xfe, 0xff, 0xff, 0xff, 0x47,
	0x40, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x4e, 0x49, 0x30, 0x31,
	0x0a, 0x49, 0x30, 0x30, 0x0a, 0x63, 0x5f, 0x63, 0x6f, 0x64, 0x65, 0x63,
	0x73, 0x0a, 0x65, 0x6e, 0x63, 0x6f, 0x64, 0x65, 0x0a, 0x71, 0x03, 0x28,
	0x58, 0x01, 0x00, 0x00, 0x00, 0x78, 0x71, 0x04, 0x58, 0x06, 0x00, 0x00,
	0x00, 0x6c, 0x61, 0x74, 0x69, 0x6e, 0x31, 0x71, 0x05, 0x74, 0x71, 0x06,
	0x52, 0x71, 0x07, 0x58, 0x03, 0x00, 0x00, 0x00, 0x79, 0xc3, 0xa9, 0x71,
	0x08, 0x28, 0x4b, 0x01, 0x4b, 0x02, 0x4b, 0x03, 0x74, 0x71, 0x09, 0x29,
	0x63, 0x5f, 0x5f, 0x62, 0x75, 0x69, 0x6c, 0x74, 0x69, 0x6e, 0x5f, 0x5f,
	0x0a, 0x73, 0x65, 0x74, 0x0a, 0x71, 0x0a, 0x28, 0x5d, 0x71, 0x0b, 0x4b,
	0x01, 0x61, 0x74, 0x71, 0x0c, 0x52, 0x71, 0x0d, 0x63, 0x5f, 0x5f, 0x62,
	0x75, 0x69, 0x6c, 0x74, 0x69, 0x6e, 0x5f, 0x5f, 0x0a, 0x66, 0x72, 0x6f,
	0x7a, 0x65, 0x6e, 0x73, 0x65, 0x74, 0x0a, 0x71, 0x0e, 0x28, 0x5d, 0x71,
	0x0f, 0x4b, 0x02, 0x61, 0x74, 0x71, 0x10, 0x52, 0x71, 0x11, 0x4c, 0x31,
	0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30,
	0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30,
	0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x4c, 0x0a, 0x4a, 0xd4, 0xfe, 0xff,
	0xff, 0x4a, 0x70, 0x11, 0x01, 0x00, 0x63, 0x5f, 0x5f, 0x62, 0x75, 0x69,
	0x6c, 0x74, 0x69, 0x6e, 0x5f, 0x5f, 0x0a, 0x62, 0x79, 0x74, 0x65, 0x61,
	0x72, 0x72, 0x61, 0x79, 0x0a, 0x71, 0x12, 0x28, 0x68, 0x03, 0x28, 0x58,
	0x01, 0x00, 0x00, 0x00, 0x7a, 0x71, 0x13, 0x68, 0x05, 0x74, 0x71, 0x14,
	0x52, 0x71, 0x15, 0x74, 0x71, 0x16, 0x52, 0x71, 0x17, 0x65, 0x58, 0x01,
	0x00, 0x00, 0x00, 0x6f, 0x71, 0x18, 0x63, 0x63, 0x6f, 0x6c, 0x6c, 0x65,
	0x63, 0x74, 0x69, 0x6f, 0x6e, 0x73, 0x0a, 0x4f, 0x72, 0x64, 0x65, 0x72,
	0x65, 0x64, 0x44, 0x69, 0x63, 0x74, 0x0a, 0x71, 0x19, 0x29, 0x52, 0x71,
	0x1a, 0x58, 0x01, 0x00, 0x00, 0x00, 0x6b, 0x71, 0x1b, 0x4b, 0x01, 0x73,
	0x75, 0x2e
};
static const uint8_t plain_p2[] = {
	0x80, 0x02, 0x7d, 0x71, 0x00, 0x28, 0x58, 0x01, 0x00, 0x00, 0x00, 0x61,
	0x71, 0x01, 0x5d, 0x71, 0x02, 0x28, 0x4b, 0x01, 0x4a, 0xfe, 0xff, 0xff,
	0xff, 0x47, 0x40, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x4e, 0x88,
	0x89, 0x63, 0x5f, 0x63, 0x6f, 0x64, 0x65, 0x63, 0x73, 0x0a, 0x65, 0x6e,
	0x63, 0x6f, 0x64, 0x65, 0x0a, 0x71, 0x03, 0x58, 0x01, 0x00, 0x00, 0x00,
	0x78, 0x71, 0x04, 0x58, 0x06, 0x00, 0x00, 0x00, 0x6c, 0x61, 0x74, 0x69,
	0x6e, 0x31, 0x71, 0x05, 0x86, 0x71, 0x06, 0x52, 0x71, 0x07, 0x58, 0x03,
	0x00, 0x00, 0x00, 0x79, 0xc3, 0xa9, 0x71, 0x08, 0x4b, 0x01, 0x4b, 0x02,
	0x4b, 0x03, 0x87, 0x71, 0x09, 0x29, 0x63, 0x5f, 0x5f, 0x62, 0x75, 0x69,
	0x6c, 0x74, 0x69, 0x6e, 0x5f, 0x5f, 0x0a, 0x73, 0x65, 0x74, 0x0a, 0x71,
	0x0a, 0x5d, 0x71, 0x0b, 0x4b, 0x01, 0x61, 0x85, 0x71, 0x0c, 0x52, 0x71,
	0x0d, 0x63, 0x5f, 0x5f, 0x62, 0x75, 0x69, 0x6c, 0x74, 0x69, 0x6e, 0x5f,
	0x5f, 0x0a, 0x66, 0x72, 0x6f, 0x7a, 0x65, 0x6e, 0x73, 0x65, 0x74, 0x0a,
	0x71, 0x0e, 0x5d, 0x71, 0x0f, 0x4b, 0x02, 0x61, 0x85, 0x71, 0x10, 0x52,
	0x71, 0x11, 0x8a, 0x0d, 0x00, 0x00, 0x00, 0x40, 0xea, 0xed, 0x74, 0x46,
	0xd0, 0x9c, 0x2c, 0x9f, 0x0c, 0x4a, 0xd4, 0xfe, 0xff, 0xff, 0x4a, 0x70,
	0x11, 0x01, 0x00, 0x63, 0x5f, 0x5f, 0x62, 0x75, 0x69, 0x6c, 0x74, 0x69,
	0x6e, 0x5f, 0x5f, 0x0a, 0x62, 0x79, 0x74, 0x65, 0x61, 0x72, 0x72, 0x61,
	0x79, 0x0a, 0x71, 0x12, 0x68, 0x03, 0x58, 0x01, 0x00, 0x00, 0x00, 0x7a,
	0x71, 0x13, 0x68, 0x05, 0x86, 0x71, 0x14, 0x52, 0x71, 0x15, 0x85, 0x71,
	0x16, 0x52, 0x71, 0x17, 0x65, 0x58, 0x01, 0x00, 0x00, 0x00, 0x6f, 0x71,
	0x18, 0x63, 0x63, 0x6f, 0x6c, 0x6c, 0x65, 0x63, 0x74, 0x69, 0x6f, 0x6e,
	0x73, 0x0a, 0x4f, 0x72, 0x64, 0x65, 0x72, 0x65, 0x64, 0x44, 0x69, 0x63,
	0x74, 0x0a, 0x71, 0x19, 0x29, 0x52, 0x71, 0x1a, 0x58, 0x01, 0x00, 0x00,
	0x00, 0x6b, 0x71, 0x1b, 0x4b, 0x01, 0x73, 0x75, 0x2e
};
static const uint8_t plain_p3[] = {
	0x80, 0x03, 0x7d, 0x71, 0x00, 0x28, 0x58, 0x01, 0x00, 0x00, 0x00, 0x61,
	0x71, 0x01, 0x5d, 0x71, 0x02, 0x28, 0x4b, 0x01, 0x4a, 0xfe, 0xff, 0xff,
	0xff, 0x47, 0x40, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x4e, 0x88,
	0x89, 0x43, 0x01, 0x78, 0x71, 0x03, 0x58, 0x03, 0x00, 0x00, 0x00, 0x79,
	0xc3, 0xa9, 0x71, 0x04, 0x4b, 0x01, 0x4b, 0x02, 0x4b, 0x03, 0x87, 0x71,
	0x05, 0x29, 0x63, 0x62, 0x75, 0x69, 0x6c, 0x74, 0x69, 0x6e, 0x73, 0x0a,
	0x73, 0x65, 0x74, 0x0a, 0x71, 0x06, 0x5d, 0x71, 0x07, 0x4b, 0x01, 0x61,
	0x85, 0x71, 0x08, 0x52, 0x71, 0x09, 0x63, 0x62, 0x75, 0x69, 0x6c, 0x74,
	0x69, 0x6e, 0x73, 0x0a, 0x66, 0x72, 0x6f, 0x7a, 0x65, 0x6e, 0x73, 0x65,
	0x74, 0x0a, 0x71, 0x0a, 0x5d, 0x71, 0x0b, 0x4b, 0x02, 0x61, 0x85, 0x71,
	0x0c, 0x52, 0x71, 0x0d, 0x8a, 0x0d, 0x00, 0x00, 0x00, 0x40, 0xea, 0xed,
	0x74, 0x46, 0xd0, 0x9c, 0x2c, 0x9f, 0x0c, 0x4a, 0xd4, 0xfe, 0xff, 0xff,
	0x4a, 0x70, 0x11, 0x01, 0x00, 0x63, 0x62, 0x75, 0x69, 0x6c, 0x74, 0x69,
	0x6e, 0x73, 0x0a, 0x62, 0x79, 0x74, 0x65, 0x61, 0x72, 0x72, 0x61, 0x79,
	0x0a, 0x71, 0x0e, 0x43, 0x01, 0x7a, 0x71, 0x0f, 0x85, 0x71, 0x10, 0x52,
	0x71, 0x11, 0x65, 0x58, 0x01, 0x00, 0x00, 0x00, 0x6f, 0x71, 0x12, 0x63,
	0x63, 0x6f, 0x6c, 0x6c, 0x65, 0x63, 0x74, 0x69, 0x6f, 0x6e, 0x73, 0x0a,
	0x4f, 0x72, 0x64, 0x65, 0x72, 0x65, 0x64, 0x44, 0x69, 0x63, 0x74, 0x0a,
	0x71, 0x13, 0x29, 0x52, 0x71, 0x14, 0x58, 0x01, 0x00, 0x00, 0x00, 0x6b,
	0x71, 0x15, 0x4b, 0x01, 0x73, 0x75, 0x2e
};
static const uint8_t plain_p4[] = {
	0x80, 0x04, 0x95, 0xa4, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x7d,
	0x94, 0x28, 0x8c, 0x01, 0x61, 0x94, 0x5d, 0x94, 0x28, 0x4b, 0x01, 0x4a,
	0xfe, 0xff, 0xff, 0xff, 0x47, 0x40, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x4e, 0x88, 0x89, 0x43, 0x01, 0x78, 0x94, 0x8c, 0x03, 0x79, 0xc3,
	0xa9, 0x94, 0x4b, 0x01, 0x4b, 0x02, 0x4b, 0x03, 0x87, 0x94, 0x29, 0x8f,
	0x94, 0x28, 0x4b, 0x01, 0x90, 0x28, 0x4b, 0x02, 0x91, 0x94, 0x8a, 0x0d,
	0x00, 0x00, 0x00, 0x40, 0xea, 0xed, 0x74, 0x46, 0xd0, 0x9c, 0x2c, 0x9f,
	0x0c, 0x4a, 0xd4, 0xfe, 0xff, 0xff, 0x4a, 0x70, 0x11, 0x01, 0x00, 0x8c,
	0x08, 0x62, 0x75, 0x69, 0x6c, 0x74, 0x69, 0x6e, 0x73, 0x94, 0x8c, 0x09,
	0x62, 0x79, 0x74, 0x65, 0x61, 0x72, 0x72, 0x61, 0x79, 0x94, 0x93, 0x94,
	0x43, 0x01, 0x7a, 0x94, 0x85, 0x94, 0x52, 0x94, 0x65, 0x8c, 0x01, 0x6f,
	0x94, 0x8c, 0x0b, 0x63, 0x6f, 0x6c, 0x6c, 0x65, 0x63, 0x74, 0x69, 0x6f,
	0x6e, 0x73, 0x94, 0x8c, 0x0b, 0x4f, 0x72, 0x64, 0x65, 0x72, 0x65, 0x64,
	0x44, 0x69, 0x63, 0x74, 0x94, 0x93, 0x94, 0x29, 0x52, 0x94, 0x8c, 0x01,
	0x6b, 0x94, 0x4b, 0x01, 0x73, 0x75, 0x2e
};
static const uint8_t plain_p5[] = {
	0x80, 0x05, 0x95, 0x8e, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x7d,
	0x94, 0x28, 0x8c, 0x01, 0x61, 0x94, 0x5d, 0x94, 0x28, 0x4b, 0x01, 0x4a,
	0xfe, 0xff, 0xff, 0xff, 0x47, 0x40, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x4e, 0x88, 0x89, 0x43, 0x01, 0x78, 0x94, 0x8c, 0x03, 0x79, 0xc3,
	0xa9, 0x94, 0x4b, 0x01, 0x4b, 0x02, 0x4b, 0x03, 0x87, 0x94, 0x29, 0x8f,
	0x94, 0x28, 0x4b, 0x01, 0x90, 0x28, 0x4b, 0x02, 0x91, 0x94, 0x8a, 0x0d,
	0x00, 0x00, 0x00, 0x40, 0xea, 0xed, 0x74, 0x46, 0xd0, 0x9c, 0x2c, 0x9f,
	0x0c, 0x4a, 0xd4, 0xfe, 0xff, 0xff, 0x4a, 0x70, 0x11, 0x01, 0x00, 0x96,
	0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x7a, 0x94, 0x65, 0x8c,
	0x01, 0x6f, 0x94, 0x8c, 0x0b, 0x63, 0x6f, 0x6c, 0x6c, 0x65, 0x63, 0x74,
	0x69, 0x6f, 0x6e, 0x73, 0x94, 0x8c, 0x0b, 0x4f, 0x72, 0x64, 0x65, 0x72,
	0x65, 0x64, 0x44, 0x69, 0x63, 0x74, 0x94, 0x93, 0x94, 0x29, 0x52, 0x94,
	0x8c, 0x01, 0x6b, 0x94, 0x4b, 0x01, 0x73, 0x75, 0x2e
};

static enum mg_gclass
test_classify(void *ctx, const char *m, const char *n, const char **cat)
{
	static const char *const allow[][2] = {
		{ "collections", "OrderedDict" }, { "builtins", "set" },
		{ "builtins", "frozenset" }, { "builtins", "bytearray" },
		{ "_codecs", "encode" },
		{ "enumlib", "Color" }, { "enumlib", "Color.RED" },
		{ "numpy", "ndarray" }, { "numpy", "dtype" },
		{ "numpy._core.multiarray", "_reconstruct" },
		{ "numpy.core.multiarray", "_reconstruct" },
		{ "numpy._core.multiarray", "scalar" },
		{ "numpy._core.numeric", "_frombuffer" },
		{ "numpy.random._pickle", "__bit_generator_ctor" },
		{ "numpy.random._mt19937", "MT19937" },
		{ "torch._tensor", "_rebuild_from_type_v2" },
		{ "builtins", "str" },
		{ "joblib.numpy_pickle", "NumpyArrayWrapper" },
	};
	size_t i;

	/* ctx non-NULL: also what protocols 0/1 rebuild objects with. */
	if (ctx != NULL && ((strcmp(m, "copyreg") == 0 &&
	                     strcmp(n, "_reconstructor") == 0) ||
	                    (strcmp(m, "builtins") == 0 &&
	                     strcmp(n, "object") == 0)))
		return MG_GLOBAL_ALLOWED;
	if ((strcmp(m, "os") == 0 && strcmp(n, "system") == 0) ||
	    (strcmp(m, "builtins") == 0 && strcmp(n, "eval") == 0) ||
	    (strcmp(m, "builtins") == 0 && strcmp(n, "getattr") == 0) ||
	    (strcmp(m, "torch.storage") == 0 &&
	     strcmp(n, "_load_from_bytes") == 0)) {
		*cat = "code execution";
		return MG_GLOBAL_DENIED;
	}
	if (strcmp(m, "rb") == 0 && strcmp(n, "Cfg") == 0)
		return MG_GLOBAL_REBUILD;
	for (i = 0; i < sizeof(allow) / sizeof(allow[0]); i++)
		if (strcmp(m, allow[i][0]) == 0 && strcmp(n, allow[i][1]) == 0)
			return MG_GLOBAL_ALLOWED;
	return MG_GLOBAL_UNKNOWN;
}

static const struct mg_classifier test_classifier = { test_classify, NULL };
static const struct mg_classifier rebuild_classifier = { test_classify,
                                                         (void *)1 };

static struct mg_scan_opts
opts(void)
{
	struct mg_scan_opts o;

	memset(&o, 0, sizeof(o));
	o.classifier = &test_classifier;
	o.max_stack = 1 << 20;
	o.max_memo = 1 << 20;
	o.max_pickles = 16;
	return o;
}

static struct mg_report *
scan_hooks(const struct mg_scan_opts *o, const struct mg_pickle_hooks *h,
           const void *b, size_t n)
{
	struct mg_report *r = mg_report_new();

	ck_assert_ptr_nonnull(r);
	ck_assert_int_eq(mg_pickle_scan_all(o, h, b, n, NULL, 0, r), MG_OK);
	return r;
}

static struct mg_report *
scan(const void *b, size_t n)
{
	struct mg_scan_opts o = opts();

	return scan_hooks(&o, NULL, b, n);
}

#define S(lit) (const uint8_t *)(lit), sizeof(lit) - 1

static int
has_rule(const struct mg_report *r, const char *rule)
{
	size_t i;

	for (i = 0; i < r->nfindings; i++)
		if (strcmp(r->findings[i].rule, rule) == 0)
			return 1;
	return 0;
}

static int
has_global(const struct mg_report *r, const char *m, const char *n,
           enum mg_verdict v)
{
	size_t i;

	for (i = 0; i < r->nglobals; i++)
		if (strcmp(r->globals[i].module, m) == 0 &&
		    strcmp(r->globals[i].name, n) == 0)
			return r->globals[i].verdict == v;
	return 0;
}

/* Expect verdict @v and (when non-NULL) a finding with @rule. */
static void
expect(const void *b, size_t n, enum mg_verdict v, const char *rule)
{
	struct mg_report *r = scan(b, n);

	ck_assert_msg(r->verdict == v, "verdict %s, expected %s",
	              mg_verdict_name(r->verdict), mg_verdict_name(v));
	if (rule != NULL)
		ck_assert_msg(has_rule(r, rule), "no %s finding", rule);
	mg_report_free(r);
}

/* ---- opcode families ---------------------------------------------------- */

START_TEST(test_pickle_plain_data_is_clean_in_every_protocol)
{
	static const struct { const uint8_t *b; size_t n; } p[] = {
		{ plain_p0, sizeof(plain_p0) }, { plain_p1, sizeof(plain_p1) },
		{ plain_p2, sizeof(plain_p2) }, { plain_p3, sizeof(plain_p3) },
		{ plain_p4, sizeof(plain_p4) }, { plain_p5, sizeof(plain_p5) },
	};
	struct mg_report *r = scan(p[_i].b, p[_i].n);

	ck_assert_msg(r->verdict == MG_VERDICT_CLEAN, "protocol %d: %s (%s)",
	              _i, mg_verdict_name(r->verdict), r->nfindings ?
	              r->findings[0].message : "");
	ck_assert_uint_eq(r->npickles, 1);
	ck_assert(has_global(r, "collections", "OrderedDict",
	                     MG_VERDICT_CLEAN));
	if (_i < 4) /* protocol 4+ pickles sets and bytes natively */
		ck_assert(has_global(r, "builtins", "set", MG_VERDICT_CLEAN));
	mg_report_free(r);
}
END_TEST

START_TEST(test_pickle_every_prefix_of_a_pickle_is_never_clean)
{
	static const struct { const uint8_t *b; size_t n; } p[] = {
		{ plain_p0, sizeof(plain_p0) }, { plain_p2, sizeof(plain_p2) },
		{ plain_p5, sizeof(plain_p5) },
	};
	size_t k;
	struct mg_report *r;

	for (k = 1; k < p[_i].n; k++) {
		r = scan(p[_i].b, k);
		ck_assert_msg(r->verdict >= MG_VERDICT_ERROR,
		              "prefix %zu: %s", k, mg_verdict_name(r->verdict));
		mg_report_free(r);
	}
}
END_TEST

START_TEST(test_pickle_int_text_forms_and_booleans_parse)
{
	expect(S("I01\n."), MG_VERDICT_CLEAN, NULL);
	expect(S("I00\n."), MG_VERDICT_CLEAN, NULL);
	expect(S("I-12\n."), MG_VERDICT_CLEAN, NULL);
	expect(S("L123456789012345678901234567890L\n."), MG_VERDICT_CLEAN,
	       NULL);
	expect(S("F2.5\n."), MG_VERDICT_CLEAN, NULL);
	expect(S("\x80\x02\x8a\x09\x00\x00\x00\x00\x00\x00\x00\x00\x01."),
	       MG_VERDICT_CLEAN, NULL);
	expect(S("Ixyz\n."), MG_VERDICT_ERROR, "pickle.malformed");
	expect(S("I\n."), MG_VERDICT_ERROR, "pickle.malformed");
	expect(S("\x80\x02\x8b\xff\xff\xff\xff."), MG_VERDICT_ERROR,
	       "pickle.malformed");
}
END_TEST

START_TEST(test_pickle_rejects_unknown_opcode_and_proto_6)
{
	expect(S("\x80\x02\xff."), MG_VERDICT_ERROR, "pickle.malformed");
	expect(S("\x80\x06N."), MG_VERDICT_ERROR, "pickle.malformed");
	expect(S("\x80\x05N."), MG_VERDICT_CLEAN, NULL);
}
END_TEST

START_TEST(test_pickle_string_escapes_decode_like_the_loader)
{
	/* STRING 'o\x73' and '\157s' are "os": STACK_GLOBAL must see it. */
	expect(S("S'o\\x73'\nS'system'\n\x93."), MG_VERDICT_DANGEROUS,
	       "pickle.global.denied");
	expect(S("S'\\157s'\nS\"system\"\n\x93."), MG_VERDICT_DANGEROUS,
	       "pickle.global.denied");
	/* UNICODE is raw-unicode-escape: \u006f is "o". */
	expect(S("V\\u006fs\nVsys\\u0074em\n\x93."), MG_VERDICT_DANGEROUS,
	       "pickle.global.denied");
	/* An even run of backslashes is no escape: name "\\\\u006fs". */
	expect(S("V\\\\u006fs\nVsystem\n\x93."), MG_VERDICT_UNKNOWN,
	       "pickle.global.unknown");
}
END_TEST

START_TEST(test_pickle_rejects_bad_quoting_and_bad_escapes)
{
	expect(S("S'abc\n."), MG_VERDICT_ERROR, "pickle.malformed");
	expect(S("Sabc\n."), MG_VERDICT_ERROR, "pickle.malformed");
	expect(S("S'\n."), MG_VERDICT_ERROR, "pickle.malformed");
	expect(S("S'\\x4'\n."), MG_VERDICT_ERROR, "pickle.malformed");
	expect(S("S'ab\\'\n."), MG_VERDICT_ERROR, "pickle.malformed");
	expect(S("V\\u00\n."), MG_VERDICT_ERROR, "pickle.malformed");
	expect(S("V\\U00110000\n."), MG_VERDICT_ERROR, "pickle.malformed");
	/* Unknown escapes are kept, as the loader keeps them. */
	expect(S("S'\\q'\n."), MG_VERDICT_CLEAN, NULL);
}
END_TEST

START_TEST(test_pickle_counted_strings_and_bytes)
{
	expect(S("\x80\x04\x8c\x02os\x8c\x06system\x93."),
	       MG_VERDICT_DANGEROUS, "pickle.global.denied");
	expect(S("\x80\x02X\x02\x00\x00\x00osX\x06\x00\x00\x00system\x93."),
	       MG_VERDICT_DANGEROUS, "pickle.global.denied");
	expect(S("\x80\x04\x8d\x02\x00\x00\x00\x00\x00\x00\x00os"
	         "\x8c\x06system\x93."), MG_VERDICT_DANGEROUS,
	       "pickle.global.denied");
	/* Python 2 strings are str to the loader: STACK_GLOBAL takes them. */
	expect(S("\x80\x02U\x02osT\x06\x00\x00\x00system\x93."),
	       MG_VERDICT_DANGEROUS, "pickle.global.denied");
	expect(S("\x80\x04" "C\x03" "abcB\x01\x00\x00\x00x\x8e\x01\x00\x00\x00"
	         "\x00\x00\x00\x00y\x96\x00\x00\x00\x00\x00\x00\x00\x00."),
	       MG_VERDICT_CLEAN, NULL);
	expect(S("\x80\x04\x8c\x02\xc3\x28."), MG_VERDICT_ERROR,
	       "pickle.malformed");
}
END_TEST

START_TEST(test_pickle_rejects_truncated_binunicode)
{
	expect(S("\x80\x04X\x05\x00\x00\x00" "ab"), MG_VERDICT_ERROR,
	       "pickle.malformed");
	expect(S("\x80\x04X\x05\x00"), MG_VERDICT_ERROR, "pickle.malformed");
}
END_TEST

START_TEST(test_pickle_huge_lengths_fail_without_allocating)
{
	expect(S("\x80\x04\x8d\xff\xff\xff\xff\xff\xff\xff\x7f" "abc."),
	       MG_VERDICT_ERROR, "pickle.malformed");
	expect(S("\x80\x04\x8e\xff\xff\xff\xff\xff\xff\xff\xff" "abc."),
	       MG_VERDICT_ERROR, "pickle.malformed");
	expect(S("\x80\x04\x95\xff\xff\xff\xff\xff\xff\xff\xffN."),
	       MG_VERDICT_DANGEROUS, "pickle.frame");
	expect(S("\x80\x02T\xff\xff\xff\xff."), MG_VERDICT_ERROR,
	       "pickle.malformed");
}
END_TEST

START_TEST(test_pickle_stack_global_rejects_non_str_operands)
{
	expect(S("\x80\x04K\x01\x8c\x01" "a\x93."), MG_VERDICT_ERROR,
	       "pickle.malformed");
	expect(S("\x80\x04\x8c\x02osC\x06system\x93."), MG_VERDICT_ERROR,
	       "pickle.malformed");
	expect(S("\x80\x04\x8c\x02os\x93."), MG_VERDICT_ERROR,
	       "pickle.malformed");
	/* A name returned by a call is only known at load time: str("os"),
	 * by REDUCE or by NEWOBJ (str.__new__(str, "os")). */
	expect(S("\x80\x04\x8c\x08" "builtins\x8c\x03str\x93\x8c\x02os\x85R"
	         "\x8c\x06system\x93."), MG_VERDICT_DANGEROUS,
	       "pickle.global.computed");
	expect(S("\x80\x04\x8c\x08" "builtins\x8c\x03str\x93\x8c\x02os"
	         "\x85\x81\x8c\x06system\x93."), MG_VERDICT_DANGEROUS,
	       "pickle.global.computed");
	/* What NEWOBJ makes without arguments of an unknown class: its
	 * __new__ is code no list vouches for. */
	expect(S("\x80\x04\x8c\x03" "foo\x8c\x03" "Bar\x93)\x81"
	         "\x8c\x06system\x93."), MG_VERDICT_DANGEROUS,
	       "pickle.global.computed");
	/* ...and a global may be a str (os.sep). */
	expect(S("\x80\x04" "cos\nsep\n\x8c\x06system\x93."),
	       MG_VERDICT_DANGEROUS, "pickle.global.computed");
}
END_TEST

START_TEST(test_pickle_stack_global_operand_never_a_name)
{
	/* The loader takes only an exact str and imports no "": an
	 * OrderedDict, what NEWOBJ makes without arguments of a class that
	 * is not unknown (str's is ""), a class NEWOBJ accepted (a type),
	 * and the wrapper class joblib dumps.  A joblib file read with
	 * pickle.load feeds such values to its nested pickles. */
	expect(S("\x80\x04\x8c\x0b" "collections\x8c\x0b" "OrderedDict\x93)R"
	         "\x8c\x06system\x93."), MG_VERDICT_ERROR, "pickle.malformed");
	expect(S("\x80\x04\x8c\x08" "builtins\x8c\x03str\x93)\x81"
	         "\x8c\x06system\x93."), MG_VERDICT_ERROR, "pickle.malformed");
	expect(S("\x80\x04\x8c\x03" "foo\x8c\x03" "Bar\x93\x94)\x81" "0h\x00"
	         "\x8c\x06system\x93."), MG_VERDICT_ERROR, "pickle.malformed");
	expect(S("\x80\x04\x8c\x13joblib.numpy_pickle\x8c\x11NumpyArrayWrapper"
	         "\x93\x8c\x06system\x93."), MG_VERDICT_ERROR,
	       "pickle.malformed");
}
END_TEST

START_TEST(test_pickle_memo_round_trip_feeds_stack_global)
{
	/* BINPUT/BINGET, MEMOIZE, LONG_BINGET and protocol-0 PUT/GET. */
	expect(S("\x80\x04\x8c\x02os\x94\x8c\x06system\x94" "00"
	         "h\x00j\x01\x00\x00\x00\x93."), MG_VERDICT_DANGEROUS,
	       "pickle.global.denied");
	expect(S("Vos\np7\n0Vsystem\ng7\n0g7\nVsystem\n\x93."),
	       MG_VERDICT_DANGEROUS, "pickle.global.denied");
	expect(S("\x80\x02\x8c\x02osr\x05\x00\x00\x00" "0\x8c\x06system"
	         "\x94h\x05h\x01\x93."), MG_VERDICT_DANGEROUS,
	       "pickle.global.denied");
}
END_TEST

START_TEST(test_pickle_memo_overwrite_is_followed)
{
	/* memo[0] = "collections", then memo[0] = "os": GET 0 is "os". */
	expect(S("\x80\x04\x8c\x0b" "collections" "q\x00" "0\x8c\x02osq\x00"
	         "0h\x00\x8c\x06system\x93."), MG_VERDICT_DANGEROUS,
	       "pickle.global.denied");
	/* ...and MEMOIZE after an overwrite counts entries, not PUTs. */
	expect(S("\x80\x04\x8c\x01xq\x00q\x00\x8c\x02os\x94" "0h\x01"
	         "\x8c\x06system\x93."), MG_VERDICT_DANGEROUS,
	       "pickle.global.denied");
}
END_TEST

START_TEST(test_pickle_rejects_memo_miss_and_bad_memo_ids)
{
	expect(S("\x80\x02h\x05."), MG_VERDICT_ERROR, "pickle.malformed");
	expect(S("Nq\x00" "0h\x01."), MG_VERDICT_ERROR, "pickle.malformed");
	expect(S("Np-1\n."), MG_VERDICT_ERROR, "pickle.malformed");
	expect(S("Np0x1\n."), MG_VERDICT_ERROR, "pickle.malformed");
	expect(S("Np1__0\n."), MG_VERDICT_ERROR, "pickle.malformed");
	expect(S("Np\n."), MG_VERDICT_ERROR, "pickle.malformed");
	/* What int() accepts the loaders accept: spaces, CRLF, "1_0", "+". */
	expect(S("Vos\np1_0\r\n0Vsystem\np0\n0g 10 \ng+0\n\x93."),
	       MG_VERDICT_DANGEROUS, "pickle.global.denied");
}
END_TEST

START_TEST(test_pickle_put_on_empty_stack_is_an_error)
{
	expect(S("\x80\x02q\x00N."), MG_VERDICT_ERROR, "pickle.malformed");
	expect(S("N(p0\nN."), MG_VERDICT_ERROR, "pickle.malformed");
	expect(S("\x80\x04\x94N."), MG_VERDICT_ERROR, "pickle.malformed");
}
END_TEST

START_TEST(test_pickle_stack_underflow_and_mark_errors)
{
	expect(S("\x80\x02R."), MG_VERDICT_ERROR, "pickle.malformed");
	expect(S("."), MG_VERDICT_ERROR, "pickle.malformed");
	expect(S("N(."), MG_VERDICT_ERROR, "pickle.malformed");
	expect(S("Nt."), MG_VERDICT_ERROR, "pickle.malformed");
	expect(S("(K\x01K\x02K\x03" "d."), MG_VERDICT_ERROR, "pickle.malformed");
	expect(S("N(\x85."), MG_VERDICT_ERROR, "pickle.malformed");
	/* POP pops a MARK on top; POP_MARK discards down to it. */
	expect(S("N(0."), MG_VERDICT_CLEAN, NULL);
	expect(S("N(K\x01K\x02" "1."), MG_VERDICT_CLEAN, NULL);
	expect(S("N1."), MG_VERDICT_ERROR, "pickle.malformed");
	expect(S("N2\x86."), MG_VERDICT_CLEAN, NULL);
	expect(S("(K\x01K\x02l(tK\x01K\x02K\x03\x87)" "(\x91\x8f(K\x01\x90."),
	       MG_VERDICT_CLEAN, NULL);
}
END_TEST

/* ---- normalisation ---------------------------------------------------- */

START_TEST(test_pickle_maps_python2_names_below_protocol_3)
{
	struct mg_report *r = scan(S("\x80\x02" "c__builtin__\neval\n."));

	ck_assert_int_eq(r->verdict, MG_VERDICT_DANGEROUS);
	ck_assert(has_rule(r, "pickle.global.denied"));
	ck_assert(has_global(r, "builtins", "eval", MG_VERDICT_DANGEROUS));
	mg_report_free(r);
	r = scan(S("ccopy_reg\n_reconstructor\n."));
	ck_assert(has_global(r, "copyreg", "_reconstructor",
	                     MG_VERDICT_UNKNOWN));
	ck_assert_int_eq(r->verdict, MG_VERDICT_UNKNOWN);
	mg_report_free(r);
	/* NAME_MAPPING wins over IMPORT_MAPPING: __builtin__ xrange. */
	r = scan(S("c__builtin__\nxrange\n."));
	ck_assert(has_global(r, "builtins", "range", MG_VERDICT_UNKNOWN));
	mg_report_free(r);
}
END_TEST

START_TEST(test_pickle_keeps_python2_names_from_protocol_3)
{
	struct mg_report *r = scan(S("\x80\x03" "c__builtin__\neval\n."));

	ck_assert_int_eq(r->verdict, MG_VERDICT_DANGEROUS);
	ck_assert(has_rule(r, "pickle.global.dunder"));
	ck_assert(has_global(r, "__builtin__", "eval", MG_VERDICT_DANGEROUS));
	mg_report_free(r);
	r = scan(S("\x80\x03" "ccopy_reg\n_reconstructor\n."));
	ck_assert(has_global(r, "copy_reg", "_reconstructor",
	                     MG_VERDICT_UNKNOWN));
	mg_report_free(r);
}
END_TEST

START_TEST(test_pickle_proto_seen_mid_stream_changes_normalisation)
{
	struct mg_report *r;

	r = scan(S("\x80\x04\x80\x02" "c__builtin__\neval\n."));
	ck_assert(has_global(r, "builtins", "eval", MG_VERDICT_DANGEROUS));
	mg_report_free(r);
	r = scan(S("\x80\x02" "c__builtin__\nlong\n0\x80\x03"
	           "c__builtin__\nlong\n."));
	ck_assert(has_global(r, "builtins", "int", MG_VERDICT_UNKNOWN));
	ck_assert(has_global(r, "__builtin__", "long", MG_VERDICT_DANGEROUS));
	mg_report_free(r);
}
END_TEST

START_TEST(test_pickle_dotted_names_are_split_and_checked)
{
	struct mg_report *r;

	/* getattr(os, "system").x: reaches the denied os system. */
	r = scan(S("\x80\x04\x8c\x02os\x8c\x08system.x\x93."));
	ck_assert_int_eq(r->verdict, MG_VERDICT_DANGEROUS);
	ck_assert(has_rule(r, "pickle.global.denied"));
	mg_report_free(r);
	/* builtins "eval.a" is checked as (builtins, eval) too. */
	r = scan(S("\x80\x04\x8c\x08" "builtins\x8c\x06" "eval.a\x93."));
	ck_assert_int_eq(r->verdict, MG_VERDICT_DANGEROUS);
	mg_report_free(r);
	/* An allowed class's attribute is not itself allowed. */
	r = scan(S("\x80\x04\x8c\x0b" "collections\x8c\x14"
	           "OrderedDict.fromkeys\x93."));
	ck_assert_int_eq(r->verdict, MG_VERDICT_UNKNOWN);
	mg_report_free(r);
	/* Dotted with a dunder component, and the same under protocol 2. */
	expect(S("\x80\x04\x8c\x0b" "collections\x8c\x16"
	         "OrderedDict.__init__.x\x93."), MG_VERDICT_DANGEROUS,
	       "pickle.global.dunder");
	expect(S("\x80\x02" "cos\nsystem.x\n."), MG_VERDICT_DANGEROUS,
	       "pickle.global.denied");
}
END_TEST

START_TEST(test_pickle_dunder_names_are_never_allowed)
{
	expect(S("cbuiltins\n__import__\n."), MG_VERDICT_DANGEROUS,
	       "pickle.global.dunder");
	expect(S("\x80\x04\x8c\x08__main__\x8c\x03" "Foo\x93."),
	       MG_VERDICT_DANGEROUS, "pickle.global.dunder");
	expect(S("cos\n__dict__\n."), MG_VERDICT_DANGEROUS,
	       "pickle.global.dunder");
}
END_TEST

START_TEST(test_pickle_classifies_allowed_unknown_denied)
{
	struct mg_report *r;

	expect(S("\x80\x02" "ccollections\nOrderedDict\n)R."),
	       MG_VERDICT_CLEAN, NULL);
	/* Pushed, never called: unknown.  (Called: see the "calls" case.) */
	r = scan(S("\x80\x02" "cfoo\nBar\n."));
	ck_assert_int_eq(r->verdict, MG_VERDICT_UNKNOWN);
	ck_assert(has_rule(r, "pickle.global.unknown"));
	ck_assert(has_global(r, "foo", "Bar", MG_VERDICT_UNKNOWN));
	mg_report_free(r);
	r = scan(S("cos\nsystem\n(S'touch marker'\ntR."));
	ck_assert_int_eq(r->verdict, MG_VERDICT_DANGEROUS);
	ck_assert_ptr_nonnull(strstr(r->findings[0].message,
	                             "code execution"));
	ck_assert_str_eq(r->findings[0].global, "os system");
	mg_report_free(r);
	/* INST and OBJ resolve their classes too. */
	expect(S("(S'id'\nios\nsystem\n."), MG_VERDICT_DANGEROUS,
	       "pickle.global.denied");
	expect(S("(cos\nsystem\nS'id'\no."), MG_VERDICT_DANGEROUS,
	       "pickle.global.denied");
	expect(S("\x80\x04\x8c\x02os\x8c\x06system\x93)\x81."),
	       MG_VERDICT_DANGEROUS, "pickle.global.denied");
}
END_TEST

START_TEST(test_pickle_rejects_bad_global_lines)
{
	expect(S("c\nsystem\n."), MG_VERDICT_ERROR, "pickle.malformed");
	expect(S("cos\nsystem"), MG_VERDICT_ERROR, "pickle.malformed");
	expect(S("cos\nsys\xfftem\n."), MG_VERDICT_ERROR, "pickle.malformed");
	expect(S("\x80\x04\x8c\x02os\x8c\x07sys\x00tem\x93."),
	       MG_VERDICT_ERROR, "pickle.malformed");
}
END_TEST

/* ---- structural rules ------------------------------------------------- */

START_TEST(test_pickle_ext_opcodes_are_dangerous)
{
	expect(S("\x80\x02\x82\x01."), MG_VERDICT_DANGEROUS, "pickle.ext");
	expect(S("\x80\x02\x83\x01\x02."), MG_VERDICT_DANGEROUS, "pickle.ext");
	expect(S("\x80\x02\x84\x01\x00\x00\x00."), MG_VERDICT_DANGEROUS,
	       "pickle.ext");
	expect(S("\x80\x02\x82\x00."), MG_VERDICT_ERROR, "pickle.malformed");
}
END_TEST

START_TEST(test_pickle_calling_a_call_result_is_dangerous)
{
	/* getattr(OrderedDict, "fromkeys")(): the second REDUCE calls a
	   value no classifier ever saw. */
	struct mg_report *r = scan(S("cbuiltins\ngetattr\n(ccollections\n"
	                             "OrderedDict\nS'fromkeys'\ntR(tR."));

	ck_assert_int_eq(r->verdict, MG_VERDICT_DANGEROUS);
	ck_assert(has_rule(r, "pickle.call.computed"));
	mg_report_free(r);
	/* NEWOBJ on a persistent-load result. */
	expect(S("\x80\x02X\x01\x00\x00\x00kQ)\x81."), MG_VERDICT_DANGEROUS,
	       "pickle.call.computed");
	/* Calling an instance of an allowed class is computed too. */
	expect(S("\x80\x02" "ccollections\nOrderedDict\n)R)R."),
	       MG_VERDICT_DANGEROUS, "pickle.call.computed");
}
END_TEST

START_TEST(test_pickle_build_on_a_global_is_dangerous)
{
	expect(S("\x80\x02" "ccollections\nOrderedDict\n}b."),
	       MG_VERDICT_DANGEROUS, "pickle.build.global");
	/* BUILD on an instance of an allowed class is fine. */
	expect(S("\x80\x02" "ccollections\nOrderedDict\n)R}b."),
	       MG_VERDICT_CLEAN, NULL);
}
END_TEST

START_TEST(test_pickle_build_slot_state_rules)
{
	/* setattr of a dunder (__class__ swaps the object's class). */
	expect(S("\x80\x02" "ccollections\nOrderedDict\n)R"
	         "N}X\x09\x00\x00\x00__class__ccollections\nOrderedDict\ns"
	         "\x86" "b."), MG_VERDICT_DANGEROUS, "pickle.build.setattr");
	/* An attribute name computed at load time could be anything. */
	expect(S("\x80\x02" "ccollections\nOrderedDict\n)R"
	         "N}ccollections\nOrderedDict\n)RK\x01s\x86" "b."),
	       MG_VERDICT_DANGEROUS, "pickle.build.setattr");
	/* A slot state that is not a literal dict. */
	expect(S("\x80\x02" "ccollections\nOrderedDict\n)R"
	         "Nccollections\nOrderedDict\n)R\x86" "b."),
	       MG_VERDICT_DANGEROUS, "pickle.build.setattr");
	/* Ordinary slot states stay clean. */
	expect(S("\x80\x02" "ccollections\nOrderedDict\n)R"
	         "N}X\x01\x00\x00\x00" "aK\x01s\x86" "b."), MG_VERDICT_CLEAN, NULL);
	expect(S("\x80\x02" "ccollections\nOrderedDict\n)R"
	         "}X\x01\x00\x00\x00" "aK\x01sN\x86" "b."), MG_VERDICT_CLEAN, NULL);
}
END_TEST

START_TEST(test_pickle_dotted_name_reaching_a_denied_pair)
{
	/* ("collections", "os.system") reaches os.system via collections.os;
	   the denied pair starts inside the name. */
	expect(S("\x80\x04\x8c\x0b" "collections\x8c\x09os.system\x93."),
	       MG_VERDICT_DANGEROUS, "pickle.global.denied");
	expect(S("\x80\x04\x8c\x0b" "collections\x8c\x0d" "a.b.os.system\x93."),
	       MG_VERDICT_DANGEROUS, "pickle.global.denied");
}
END_TEST

START_TEST(test_pickle_mutating_a_global_is_dangerous)
{
	expect(S("\x80\x02" "ccollections\nOrderedDict\nK\x01" "a."),
	       MG_VERDICT_DANGEROUS, "pickle.mutate.global");
	expect(S("\x80\x02" "ccollections\nOrderedDict\n(K\x01K\x02u."),
	       MG_VERDICT_DANGEROUS, "pickle.mutate.global");
	expect(S("\x80\x02](K\x01K\x02" "e}K\x01K\x02s."), MG_VERDICT_CLEAN,
	       NULL);
}
END_TEST

START_TEST(test_pickle_stack_ops_below_a_mark_are_rejected)
{
	/* Both loaders refuse a target below the MARK ("unexpected MARK
	   found" / IndexError), checked with /usr/bin/python3. */
	expect(S("\x80\x02](K\x01" "a0."), MG_VERDICT_ERROR,
	       "pickle.malformed");
	expect(S("\x80\x02}(K\x01K\x02s0."), MG_VERDICT_ERROR,
	       "pickle.malformed");
	expect(S("\x80\x02](((e."), MG_VERDICT_ERROR, "pickle.malformed");
}
END_TEST

START_TEST(test_pickle_frame_overrun_is_dangerous)
{
	/* FRAME of 1 byte holding K whose argument lies beyond it. */
	expect(S("\x80\x04\x95\x01\x00\x00\x00\x00\x00\x00\x00K\x01."),
	       MG_VERDICT_DANGEROUS, "pickle.frame");
	/* FRAME opened with 2 bytes of the previous one unread. */
	expect(S("\x80\x04\x95\x0b\x00\x00\x00\x00\x00\x00\x00"
	         "\x95\x02\x00\x00\x00\x00\x00\x00\x00N."), MG_VERDICT_DANGEROUS,
	       "pickle.frame");
	/* STOP with frame bytes left over. */
	expect(S("\x80\x04\x95\x04\x00\x00\x00\x00\x00\x00\x00N.NN"),
	       MG_VERDICT_DANGEROUS, "pickle.frame");
	/* Well-formed frames, and opcodes between frames, are fine. */
	expect(S("\x80\x04\x95\x02\x00\x00\x00\x00\x00\x00\x00NN"
	         "\x95\x01\x00\x00\x00\x00\x00\x00\x00."), MG_VERDICT_CLEAN,
	       NULL);
}
END_TEST

START_TEST(test_pickle_persid_is_not_dangerous_by_itself)
{
	expect(S("\x80\x02X\x03\x00\x00\x00" "abcQ."), MG_VERDICT_CLEAN, NULL);
	expect(S("Pabc\n."), MG_VERDICT_CLEAN, NULL);
}
END_TEST

START_TEST(test_pickle_next_buffer_is_an_error)
{
	expect(S("\x80\x05\x97\x98."), MG_VERDICT_ERROR, "pickle.buffer");
	/* ...and what follows is still seen. */
	expect(S("\x80\x05\x97" "0cos\nsystem\n."), MG_VERDICT_DANGEROUS,
	       "pickle.buffer");
}
END_TEST

/* ---- fail closed, limits ---------------------------------------------- */

START_TEST(test_pickle_error_keeps_earlier_findings)
{
	struct mg_report *r = scan(S("cos\nsystem\n\xff"));

	ck_assert_int_eq(r->verdict, MG_VERDICT_DANGEROUS);
	ck_assert(has_rule(r, "pickle.global.denied"));
	ck_assert(has_rule(r, "pickle.malformed"));
	mg_report_free(r);
}
END_TEST

START_TEST(test_pickle_stack_and_memo_caps_are_findings)
{
	struct mg_scan_opts o = opts();
	struct mg_report *r;

	o.max_stack = 4;
	r = scan_hooks(&o, NULL, S("NNNNNN."));
	ck_assert_int_eq(r->verdict, MG_VERDICT_ERROR);
	ck_assert(has_rule(r, "pickle.limit"));
	mg_report_free(r);
	r = scan_hooks(&o, NULL, S("((((((N."));
	ck_assert(has_rule(r, "pickle.limit"));
	mg_report_free(r);
	o = opts();
	o.max_memo = 8;
	r = scan_hooks(&o, NULL, S("Nq\x08."));
	ck_assert(has_rule(r, "pickle.limit"));
	mg_report_free(r);
	r = scan_hooks(&o, NULL, S("Nr\xff\xff\xff\xff."));
	ck_assert(has_rule(r, "pickle.limit"));
	mg_report_free(r);
}
END_TEST

START_TEST(test_pickle_long_names_are_a_finding)
{
	size_t n = 5000;
	uint8_t *b = malloc(n + 8);
	struct mg_report *r;

	b[0] = 'c';
	memset(b + 1, 'a', n);
	memcpy(b + 1 + n, "\nb\n.", 4);
	r = scan(b, n + 5);
	ck_assert_int_eq(r->verdict, MG_VERDICT_ERROR);
	ck_assert(has_rule(r, "pickle.limit"));
	mg_report_free(r);
	free(b);
}
END_TEST

START_TEST(test_pickle_distinct_globals_are_capped)
{
	size_t n = 20000, i, o = 0;
	char *b = malloc(n * 16 + 2);
	struct mg_report *r;

	for (i = 0; i < n; i++)
		o += (size_t)sprintf(b + o, "cm\nf%zu\n0", i);
	b[o++] = 'N';
	b[o++] = '.';
	r = scan(b, o);
	/* Well-formed lines: only the cap can make this an error.  Its
	   finding is past the report's 256 stored ones, so it is counted. */
	ck_assert_int_eq(r->verdict, MG_VERDICT_ERROR);
	ck_assert_uint_eq(r->nfindings + r->dropped, 16384 + 1);
	ck_assert_uint_eq(r->nglobals, MG_REPORT_MAX_GLOBALS);
	mg_report_free(r);
	free(b);
}
END_TEST

START_TEST(test_pickle_deep_nesting_is_released_without_recursion)
{
	size_t n = 200000, i;
	uint8_t *b = malloc(2 * n + 2);
	struct mg_report *r;

	for (i = 0; i < n; i++)
		b[i] = ']';
	for (i = 0; i < n - 1; i++)
		b[n + i] = 'a';
	b[2 * n - 1] = '.';
	r = scan(b, 2 * n);
	ck_assert_int_eq(r->verdict, MG_VERDICT_CLEAN);
	mg_report_free(r);
	free(b);
}
END_TEST

START_TEST(test_pickle_empty_input_is_an_error)
{
	struct mg_report *r = scan("", 0);

	ck_assert_int_eq(r->verdict, MG_VERDICT_ERROR);
	mg_report_free(r);
}
END_TEST

/* ---- stacked pickles -------------------------------------------------- */

START_TEST(test_pickle_stacked_pickles_are_all_scanned)
{
	struct mg_report *r = scan(S("N.\x80\x02K\x01.cos\nsystem\n."));

	ck_assert_int_eq(r->verdict, MG_VERDICT_DANGEROUS);
	ck_assert_uint_eq(r->npickles, 3);
	ck_assert_ptr_nonnull(strstr(r->findings[0].message, "pickle #3"));
	ck_assert_ptr_nonnull(strstr(r->findings[0].message, "offset 7"));
	ck_assert_uint_eq(r->findings[0].offset, 7);
	mg_report_free(r);
}
END_TEST

/* After a STOP, the bytes are what a second load() reads: inert when it
 * fails before it resolves a global or calls anything (pickle.load
 * returns None for "N.xyz"), scanned like the first pickle otherwise. */
START_TEST(test_pickle_trailing_bytes_are_inert_or_scanned)
{
	struct mg_report *r = scan(S("N.xyz"));

	ck_assert_int_eq(r->verdict, MG_VERDICT_CLEAN);
	ck_assert(has_rule(r, "format.inert"));
	ck_assert_uint_eq(r->findings[0].offset, 2);
	mg_report_free(r);
	expect(S("N.\x00"), MG_VERDICT_CLEAN, "format.inert");
	expect(S("\x80\x02]q\x00(K\x01K\x02e.\x01zz"), MG_VERDICT_CLEAN,
	       "format.inert");
	/* a second pickle that runs code is a pickle */
	expect(S("N.cos\nsystem\n(S'x'\ntR."), MG_VERDICT_DANGEROUS,
	       NULL);
	/* a GET the first load's memo may answer (the same Unpickler) is
	 * not a failure: scanned, and the scanner's own memo is empty */
	expect(S("N.h\x00."), MG_VERDICT_ERROR, "pickle.malformed");
	/* text read as a pickle: a GLOBAL no import finds fails */
	expect(S("N.comment_char %\nx\n"), MG_VERDICT_CLEAN, "format.inert");
	expect(S("N.ctest_build\n-----\n"), MG_VERDICT_ERROR, NULL);
}
END_TEST

START_TEST(test_pickle_too_many_stacked_pickles_is_a_limit)
{
	struct mg_scan_opts o = opts();
	struct mg_report *r;

	o.max_pickles = 2;
	r = scan_hooks(&o, NULL, S("N.N.N."));
	ck_assert_int_eq(r->verdict, MG_VERDICT_ERROR);
	ck_assert(has_rule(r, "pickle.limit"));
	mg_report_free(r);
}
END_TEST

START_TEST(test_pickle_scan_one_reports_end_after_stop)
{
	struct mg_scan_opts o = opts();
	struct mg_report *r = mg_report_new();
	size_t end = 0;

	ck_assert_int_eq(mg_pickle_scan_one(&o, NULL, S("\x80\x02K\x01.junk"),
	                                    "data.pkl", 100, r, &end), MG_OK);
	ck_assert_uint_eq(end, 5);
	ck_assert_int_eq(r->verdict, MG_VERDICT_CLEAN);
	mg_report_free(r);
}
END_TEST

/* ---- hooks ------------------------------------------------------------ */

struct hookctx {
	int builds, persids, nested;
	size_t pos[4];
	size_t skip;
	int ret;
	char pid[16];
};

static int
on_build(void *ctx, const struct mg_pvalue *obj, const uint8_t *buf,
         size_t len, size_t pos, size_t *skip)
{
	struct hookctx *h = ctx;

	(void)buf;
	(void)len;
	ck_assert_int_eq(obj->kind, MG_PV_CALL);
	ck_assert_int_eq(obj->items[0]->kind, MG_PV_GLOBAL);
	ck_assert_ptr_nonnull(obj->state);
	if (h->builds < 4)
		h->pos[h->builds] = pos;
	h->builds++;
	*skip = h->skip;
	if (h->ret == 1 && h->nested++ > 0)
		return 0; /* only the outer object has an inner pickle */
	return h->ret;
}

static void
on_persid(void *ctx, const struct mg_pvalue *pid)
{
	struct hookctx *h = ctx;

	h->persids++;
	if (pid->kind == MG_PV_STR && pid->len < sizeof(h->pid)) {
		memcpy(h->pid, pid->data, pid->len);
		h->pid[pid->len] = '\0';
	}
}

static struct mg_report *
scan_with(struct hookctx *h, const void *b, size_t n)
{
	struct mg_scan_opts o = opts();
	struct mg_pickle_hooks hk = { on_build, on_persid, h, NULL };

	return scan_hooks(&o, &hk, b, n);
}

/* ---- on_nested: torch.storage._load_from_bytes(b) ------------------------ */

struct nestctx {
	struct mg_scan_opts o;
	struct mg_report *rep;
	int calls;
	size_t len;
	uint64_t pos;
};

static int
on_nested(void *ctx, const uint8_t *data, size_t len, uint64_t pos)
{
	struct nestctx *n = ctx;

	n->calls++;
	n->len = len;
	n->pos = pos;
	return mg_pickle_scan_all(&n->o, NULL, data, len, "nested", 0,
	                          n->rep) == MG_OK ? 0 : -1;
}

static struct mg_report *
scan_nested(struct nestctx *n, const void *b, size_t len)
{
	struct mg_pickle_hooks hk = { NULL, NULL, n, on_nested };

	n->o = opts();
	n->rep = mg_report_new();
	ck_assert_ptr_nonnull(n->rep);
	ck_assert_int_eq(mg_pickle_scan_all(&n->o, &hk, b, len, NULL, 0,
	                                    n->rep), MG_OK);
	return n->rep;
}

#define LFB "ctorch.storage\n_load_from_bytes\n"

START_TEST(test_pickle_nested_load_exact_shape_is_scanned)
{
	/* Protocol 4 as pickle.dumps writes it: the global memoised and
	 * fetched again for a second tensor (BINBYTES and SHORT_BINBYTES). */
	static const char s[] = "\x80\x04" "(" LFB "\x94"
	                        "B\x02\x00\x00\x00N.\x85R"
	                        "h\x00" "C\x02N.\x85R" "l.";
	struct nestctx n = { 0 };
	struct mg_report *r = scan_nested(&n, s, sizeof(s) - 1);

	ck_assert_msg(r->verdict == MG_VERDICT_CLEAN, "%s",
	              r->nfindings ? r->findings[0].message : "");
	ck_assert_int_eq(n.calls, 2);
	ck_assert_uint_eq(n.len, 2);
	ck_assert_uint_eq(n.pos, sizeof(s) - 1 - 3);
	ck_assert(has_global(r, "torch.storage", "_load_from_bytes",
	                     MG_VERDICT_CLEAN));
	ck_assert_uint_eq(r->npickles, 3);
	mg_report_free(r);
	/* Without the hook, the same bytes stay denied. */
	expect(s, sizeof(s) - 1, MG_VERDICT_DANGEROUS, "pickle.global.denied");
}
END_TEST

START_TEST(test_pickle_nested_load_payload_is_dangerous)
{
	static const char s[] = "\x80\x04" LFB "C\x0c" "cos\nsystem\n."
	                        "\x85R.";
	struct nestctx n = { 0 };
	struct mg_report *r = scan_nested(&n, s, sizeof(s) - 1);
	size_t i;
	int seen = 0;

	ck_assert_int_eq(n.calls, 1);
	ck_assert_int_eq(r->verdict, MG_VERDICT_DANGEROUS);
	for (i = 0; i < r->nfindings; i++)
		if (r->findings[i].member != NULL &&
		    strcmp(r->findings[i].member, "nested") == 0 &&
		    strcmp(r->findings[i].global, "os system") == 0)
			seen = 1;
	ck_assert_msg(seen, "no finding for os system in the nested stream");
	/* The call itself is not what is denied: the nested stream is. */
	ck_assert(has_global(r, "torch.storage", "_load_from_bytes",
	                     MG_VERDICT_CLEAN));
	mg_report_free(r);
}
END_TEST

/* Every other use of _load_from_bytes: judged (denied), hook not called. */
static const struct { const char *s; size_t n; const char *why; }
nested_other[] = {
#define NO(lit, why) { lit, sizeof(lit) - 1, why }
	NO("\x80\x04" LFB "X\x02\x00\x00\x00" "ab\x85R.", "str argument"),
	NO("\x80\x04" LFB "C\x01" "aC\x01" "b\x86R.", "two arguments"),
	NO("\x80\x04" LFB ")R.", "no argument"),
	NO("\x80\x04" LFB "\x96\x01\x00\x00\x00\x00\x00\x00\x00" "a\x85R.",
	   "bytearray argument"),
	NO("\x80\x02" LFB "c_codecs\nencode\nX\x01\x00\x00\x00" "aX\x06\x00"
	   "\x00\x00latin1\x86R\x85R.", "protocol-2 bytes (_codecs.encode)"),
	NO("\x80\x02" LFB "U\x01" "a\x85R.", "protocol-1 string"),
	NO("\x80\x04" LFB "cbuiltins\nbytes\n)R\x85R.", "computed bytes"),
	NO("\x80\x04" LFB "C\x01" "a\x85R}b.", "BUILD on the result"),
	NO("\x80\x04" LFB "}b.", "BUILD on the global"),
	NO("\x80\x04" LFB "0N.", "popped, never called"),
	NO("\x80\x04" LFB ".", "returned itself"),
	NO("\x80\x04" LFB "\x85.", "inside a tuple"),
	NO("\x80\x04" LFB ")\x81.", "NEWOBJ"),
	NO("\x80\x04" LFB "\x94" "C\x01" "a\x85R0h\x00\x85.",
	   "one exact call, then inside a tuple"),
	NO("\x80\x04" "\x8c\x05torch\x8c\x18storage._load_from_bytes\x93"
	   "C\x01" "a\x85R.", "dotted spelling"),
	NO("\x80\x04" "ccollections\nOrderedDict\n)R" LFB "\x94"
	   "C\x01" "a\x85R0" "N" "h\x00" "s.",
	   "value handed to an instance's __setitem__"),
	NO("\x80\x04" LFB "C\x01" "a\x85", "stream ends before REDUCE"),
#undef NO
};
#define NESTED_OTHER_N \
	((int)(sizeof(nested_other) / sizeof(nested_other[0])))

START_TEST(test_pickle_nested_load_other_shapes_denied)
{
	struct nestctx n = { 0 };
	struct mg_report *r = scan_nested(&n, nested_other[_i].s,
	                                  nested_other[_i].n);

	ck_assert_msg(r->verdict == MG_VERDICT_DANGEROUS, "%s: %s",
	              nested_other[_i].why, mg_verdict_name(r->verdict));
	ck_assert_msg(has_rule(r, "pickle.global.denied"), "%s: not denied",
	              nested_other[_i].why);
	/* Three shapes make one exact call before the other use. */
	ck_assert_msg(n.calls == (_i == 7 || _i == 13 || _i == 15),
	              "%s: hook called %d",
	              nested_other[_i].why, n.calls);
	mg_report_free(r);
}
END_TEST

START_TEST(test_pickle_on_build_skip_steps_over_raw_bytes)
{
	struct hookctx h = { .skip = 4 };
	static const char s[] = "\x80\x02" "ccollections\nOrderedDict\n)R}b"
	                        "\xff\xff\xff\xff.";
	struct mg_report *r = scan_with(&h, s, sizeof(s) - 1);

	ck_assert_int_eq(r->verdict, MG_VERDICT_CLEAN);
	ck_assert_int_eq(h.builds, 1);
	ck_assert_uint_eq(h.pos[0], sizeof(s) - 6);
	mg_report_free(r);
	/* Without the hook the raw bytes are not opcodes: error. */
	expect(s, sizeof(s) - 1, MG_VERDICT_ERROR, "pickle.malformed");
}
END_TEST

START_TEST(test_pickle_on_build_in_frame_skips_at_frame_end)
{
	/* pickle.py reads a whole FRAME before running it, so joblib's raw
	   bytes come after the frame even if opcodes follow BUILD in it. */
	struct hookctx h = { .skip = 3 };
	static const char s[] = "\x80\x04\x95\x21\x00\x00\x00\x00\x00\x00\x00"
	                        "\x8c\x0b" "collections\x8c\x0b" "OrderedDict"
	                        "\x93)R}bN0"
	                        "\xff\xff\xff" ".";
	struct mg_report *r = scan_with(&h, s, sizeof(s) - 1);

	ck_assert_msg(r->verdict == MG_VERDICT_CLEAN, "%s",
	              r->nfindings ? r->findings[0].message : "");
	ck_assert_int_eq(h.builds, 1);
	ck_assert_uint_eq(h.pos[0], 11 + 0x21);
	mg_report_free(r);
}
END_TEST

START_TEST(test_pickle_on_build_nested_pickle_is_scanned)
{
	struct hookctx h = { .ret = 1 };
	static const char s[] = "\x80\x02" "ccollections\nOrderedDict\n)R}b"
	                        "cos\nsystem\n." "N.";
	struct mg_report *r = scan_with(&h, s, sizeof(s) - 1);

	ck_assert_int_eq(r->verdict, MG_VERDICT_DANGEROUS);
	ck_assert(has_rule(r, "pickle.global.denied"));
	ck_assert_uint_eq(r->npickles, 2);
	mg_report_free(r);
}
END_TEST

START_TEST(test_pickle_on_build_rejects_skip_past_end)
{
	struct hookctx h = { .skip = 100 };
	struct mg_report *r = scan_with(&h, S("\x80\x02" "ccollections\n"
	                                      "OrderedDict\n)R}b."));

	ck_assert_int_eq(r->verdict, MG_VERDICT_ERROR);
	mg_report_free(r);
	h = (struct hookctx){ .ret = -1 };
	r = scan_with(&h, S("\x80\x02" "ccollections\nOrderedDict\n)R}b."));
	ck_assert_int_eq(r->verdict, MG_VERDICT_ERROR);
	mg_report_free(r);
}
END_TEST

START_TEST(test_pickle_on_persid_sees_every_pid)
{
	struct hookctx h = { 0 };
	struct mg_report *r = scan_with(&h, S("\x80\x02X\x03\x00\x00\x00"
	                                      "abcQPxyz\n\x86."));

	ck_assert_int_eq(r->verdict, MG_VERDICT_CLEAN);
	ck_assert_int_eq(h.persids, 2);
	ck_assert_str_eq(h.pid, "xyz");
	mg_report_free(r);
}
END_TEST

/* ---- sniff ------------------------------------------------------------ */

START_TEST(test_pickle_sniff_accepts_real_stream_starts)
{
	ck_assert(mg_pickle_sniff(plain_p0, sizeof(plain_p0)));
	ck_assert(mg_pickle_sniff(plain_p1, sizeof(plain_p1)));
	ck_assert(mg_pickle_sniff(plain_p2, sizeof(plain_p2)));
	ck_assert(mg_pickle_sniff(plain_p5, sizeof(plain_p5)));
	ck_assert(mg_pickle_sniff(S("ccollections\nOrderedDict\n")));
	ck_assert(mg_pickle_sniff(S("ctorch._utils\n_rebuild_tensor_v2\n")));
	ck_assert(mg_pickle_sniff(S("N.")));
	ck_assert(mg_pickle_sniff(S("]q\x00(K\x01K\x02" "e.")));
	ck_assert(mg_pickle_sniff(S("(lp0\nI1\naI2\na.")));
	/* Protocol 2+ opcodes with no PROTO (the unpickler takes them). */
	ck_assert(mg_pickle_sniff(S("cbuiltins\nlen\n]\x85R.")));
	ck_assert(mg_pickle_sniff(S("\x8c\x08builtins\x8c\x03len\x93")));
	ck_assert(mg_pickle_sniff(S("K\x01K\x02\x86\x94.")));
	ck_assert(mg_pickle_sniff(S("\x88\x89\x86.")));
}
END_TEST

START_TEST(test_pickle_sniff_rejects_text)
{
	ck_assert(!mg_pickle_sniff(S("hello world\n")));
	ck_assert(!mg_pickle_sniff(S("(some text in parens)")));
	ck_assert(!mg_pickle_sniff(S("cat is on the mat\n")));
	ck_assert(!mg_pickle_sniff(S("Now is the time\n")));
	ck_assert(!mg_pickle_sniff(S("Some words\n")));
	ck_assert(!mg_pickle_sniff(S("{\"json\": 1}")));
	ck_assert(!mg_pickle_sniff(S("\x80\x06N.")));
	ck_assert(!mg_pickle_sniff(S("I am here\n")));
	ck_assert(!mg_pickle_sniff(S("\x85 text after an ellipsis")));
	ck_assert(!mg_pickle_sniff(S("\x93quoted\x94 in cp1252")));
	ck_assert(!mg_pickle_sniff(S("\x86\x87")));
	ck_assert(!mg_pickle_sniff(S("")));
	/* A stream that starts with GET fails on the empty memo before
	 * anything runs: "hi", "hello" and "g1\n" are text, not pickles. */
	ck_assert(!mg_pickle_sniff(S("hi")));
	ck_assert(!mg_pickle_sniff(S("hello")));
	ck_assert(!mg_pickle_sniff(S("jolly good")));
	ck_assert(!mg_pickle_sniff(S("g1\n.")));
	/* ...but a GET after a PUT is a pickle. */
	ck_assert(mg_pickle_sniff(S("Np0\ng0\n.")));
}
END_TEST

/* ---- calls of unknown globals (pickle.c, "Which opcodes run which code") */

/* Scan with protocols 0/1's object helpers allowed (rebuild_classifier). */
static struct mg_report *
scan_rebuild(const void *b, size_t n)
{
	struct mg_scan_opts o = opts();

	o.classifier = &rebuild_classifier;
	return scan_hooks(&o, NULL, b, n);
}

/* @r is an unknown call of "@g" (and nothing worse), named in a message
 * that says how to allow it. */
static void
assert_unknown_call(struct mg_report *r, const char *g, const char *allow)
{
	size_t i;
	int found = 0;

	ck_assert_msg(r->verdict == MG_VERDICT_UNKNOWN_CALL, "verdict %d",
	              (int)r->verdict);
	ck_assert_str_eq(mg_verdict_name(r->verdict), "unknown");
	for (i = 0; i < r->nfindings; i++) {
		const struct mg_finding *f = &r->findings[i];

		if (strcmp(f->rule, "pickle.call.unknown") != 0)
			continue;
		found = 1;
		ck_assert_int_eq(f->verdict, MG_VERDICT_UNKNOWN_CALL);
		ck_assert_str_eq(f->global, g);
		ck_assert_msg(strstr(f->message, allow) != NULL, "%s",
		              f->message);
		ck_assert_ptr_nonnull(strstr(f->message, "pack"));
		ck_assert_ptr_nonnull(strstr(f->message, "pin"));
	}
	ck_assert_msg(found, "no pickle.call.unknown finding");
	mg_report_free(r);
}

/* @r rebuilt an object of an unknown class: unknown, no call finding. */
static void
assert_unknown_object(struct mg_report *r)
{
	ck_assert_msg(r->verdict == MG_VERDICT_UNKNOWN, "verdict %d: %s",
	              (int)r->verdict, r->nfindings ?
	              r->findings[r->nfindings - 1].message : "");
	ck_assert(has_rule(r, "pickle.global.unknown"));
	ck_assert(!has_rule(r, "pickle.call.unknown"));
	mg_report_free(r);
}

START_TEST(test_pickle_reduce_of_unknown_with_args_is_an_unknown_call)
{
	struct mg_report *r = scan(S("clogging\nFileHandler\n(S'/tmp/m'\ntR."));

	ck_assert(has_global(r, "logging", "FileHandler", MG_VERDICT_UNKNOWN));
	assert_unknown_call(r, "logging FileHandler",
	                    "allow = logging:FileHandler");
}
END_TEST

START_TEST(test_pickle_reduce_of_unknown_with_no_args_is_still_a_call)
{
	/* f() runs f; cls() runs cls.__new__ and cls.__init__. */
	assert_unknown_call(scan(S("cfoo\nbar\n(tR.")), "foo bar",
	                    "allow = foo:bar");
	assert_unknown_call(scan(S("\x80\x02" "cfoo\nbar\n)R.")), "foo bar",
	                    "foo:bar");
}
END_TEST

START_TEST(test_pickle_newobj_empty_args_and_build_is_an_unknown_object)
{
	assert_unknown_object(scan(S("\x80\x02" "cfoo\nBar\n)\x81.")));
	assert_unknown_object(scan(S("\x80\x02" "cfoo\nBar\n)\x81}X\x01\x00"
	                             "\x00\x00" "aK\x01sb.")));
	/* the empty tuple through the memo is the same empty tuple */
	assert_unknown_object(scan(S("\x80\x02)q\x00" "cfoo\nBar\nh\x00\x81"
	                             "h\x00" "b.")));
}
END_TEST

START_TEST(test_pickle_newobj_with_args_is_an_unknown_call)
{
	assert_unknown_call(scan(S("\x80\x02" "cfoo\nBar\nK\x01\x85\x81.")),
	                    "foo Bar", "foo:Bar");
	/* args that are not a literal tuple: not known to be empty */
	assert_unknown_call(scan(S("\x80\x02" "cfoo\nBar\n]\x81.")),
	                    "foo Bar", "foo:Bar");
}
END_TEST

START_TEST(test_pickle_newobj_ex_with_args_or_kwargs_is_an_unknown_call)
{
	assert_unknown_object(scan(S("\x80\x04\x8c\x03" "foo\x8c\x03" "Bar"
	                             "\x93)}\x92.")));
	assert_unknown_call(scan(S("\x80\x04\x8c\x03" "foo\x8c\x03" "Bar\x93)"
	                           "}\x8c\x01kK\x01s\x92.")), "foo Bar",
	                    "foo:Bar");
	assert_unknown_call(scan(S("\x80\x04\x8c\x03" "foo\x8c\x03" "Bar\x93"
	                           "K\x01\x85}\x92.")), "foo Bar", "foo:Bar");
}
END_TEST

START_TEST(test_pickle_obj_and_inst_of_unknown_are_calls_even_without_args)
{
	/* instantiate(): with no arguments a function is still called. */
	assert_unknown_call(scan(S("(cfoo\nBar\nS'x'\no.")), "foo Bar",
	                    "foo:Bar");
	assert_unknown_call(scan(S("(cfoo\nBar\no.")), "foo Bar", "foo:Bar");
	assert_unknown_call(scan(S("(S'x'\nifoo\nBar\n.")), "foo Bar",
	                    "foo:Bar");
	assert_unknown_call(scan(S("(ifoo\nBar\n.")), "foo Bar", "foo:Bar");
}
END_TEST

START_TEST(test_pickle_copyreg_reconstructor_rebuilds_an_unknown_object)
{
	/* _reconstructor(cls, object, None): object.__new__(cls) */
	assert_unknown_object(scan_rebuild(S("ccopy_reg\n_reconstructor\n"
	    "(cfoo\nBar\nc__builtin__\nobject\nNtR(dS'a'\nI1\nsb.")));
	/* ...but a base other than object is called with the state */
	assert_unknown_call(scan_rebuild(S("ccopy_reg\n_reconstructor\n"
	    "(cfoo\nBar\ncfoo\nBase\nS'st'\ntR.")), "foo Base", "foo:Base");
}
END_TEST

START_TEST(test_pickle_calls_of_allowed_or_denied_globals_are_not_unknown_calls)
{
	expect(S("\x80\x02" "ccollections\nOrderedDict\nK\x01\x85R."),
	       MG_VERDICT_CLEAN, NULL);
	struct mg_report *r = scan(S("cos\nsystem\n(S'x'\ntR."));

	ck_assert_int_eq(r->verdict, MG_VERDICT_DANGEROUS);
	ck_assert(!has_rule(r, "pickle.call.unknown"));
	mg_report_free(r);
}
END_TEST

/* pickle.dumps(X, protocol=p) for a class whose __reduce__ is
 * (logging.getLogger, ("x",)) - a call - and of argparse.Namespace(a=1) -
 * an object (copyreg._reconstructor below protocol 2, NEWOBJ from 2). */
static const struct {
	int proto;
	const uint8_t *call;
	size_t calln;
	const uint8_t *obj;
	size_t objn;
} call_variants[] = {
	{ 0, S("clogging\ngetLogger\np0\n(Vx\np1\ntp2\nRp3\n."),
	  S("ccopy_reg\n_reconstructor\np0\n(cargparse\nNamespace\np1\nc__builtin__\nobject\np2\nNtp3\nRp4\n(dp5\nVa\np6\nI1\nsb.") },
	{ 1, S("clogging\ngetLogger\nq\x00(X\x01\x00\x00\x00xq\x01tq\x02Rq\x03."),
	  S("ccopy_reg\n_reconstructor\nq\x00(cargparse\nNamespace\nq\x01" "c__builtin__\nobject\nq\x02Ntq\x03Rq\x04}q\x05X\x01\x00\x00\x00" "aq\x06K\x01sb.") },
	{ 2, S("\x80\x02" "clogging\ngetLogger\nq\x00X\x01\x00\x00\x00xq\x01\x85q\x02Rq\x03."),
	  S("\x80\x02" "cargparse\nNamespace\nq\x00)\x81q\x01}q\x02X\x01\x00\x00\x00" "aq\x03K\x01sb.") },
	{ 4, S("\x80\x04\x95!\x00\x00\x00\x00\x00\x00\x00\x8c\x07logging\x94\x8c\x09getLogger\x94\x93\x94\x8c\x01x\x94\x85\x94R\x94."),
	  S("\x80\x04\x95'\x00\x00\x00\x00\x00\x00\x00\x8c\x08" "argparse\x94\x8c\x09Namespace\x94\x93\x94)\x81\x94}\x94\x8c\x01" "a\x94K\x01sb.") },
	{ 5, S("\x80\x05\x95!\x00\x00\x00\x00\x00\x00\x00\x8c\x07logging\x94\x8c\x09getLogger\x94\x93\x94\x8c\x01x\x94\x85\x94R\x94."),
	  S("\x80\x05\x95'\x00\x00\x00\x00\x00\x00\x00\x8c\x08" "argparse\x94\x8c\x09Namespace\x94\x93\x94)\x81\x94}\x94\x8c\x01" "a\x94K\x01sb.") },
};

START_TEST(test_pickle_call_and_object_in_every_protocol)
{
	struct mg_report *r;

	r = scan_rebuild(call_variants[_i].call, call_variants[_i].calln);
	ck_assert(has_global(r, "logging", "getLogger", MG_VERDICT_UNKNOWN));
	assert_unknown_call(r, "logging getLogger", "logging:getLogger");
	r = scan_rebuild(call_variants[_i].obj, call_variants[_i].objn);
	ck_assert(has_global(r, "argparse", "Namespace", MG_VERDICT_UNKNOWN));
	assert_unknown_object(r);
}
END_TEST

/* Issue 10, section 4: a callable that came out of a call stays a call
 * result wherever it flows - the memo holds the same value, BUILD returns
 * its object, an allowed helper that returns its argument returns a call
 * result - so calling it is pickle.call.computed (dangerous).  (No opcode
 * takes an item back out of a container or reads an attribute BUILD set.) */
START_TEST(test_pickle_call_results_stay_computed_through_memo_build_helpers)
{
	expect(S("\x80\x02" "ccollections\nOrderedDict\n)Rq\x00" "0h\x00)R."),
	       MG_VERDICT_DANGEROUS, "pickle.call.computed");
	expect(S("\x80\x02" "ccollections\nOrderedDict\n)R}b)R."),
	       MG_VERDICT_DANGEROUS, "pickle.call.computed");
	/* _codecs.encode(foo.bar) is allowed and foo.bar only passed: what
	 * it returns, called, is not a global any list judged */
	expect(S("c_codecs\nencode\n(cfoo\nbar\ntR(tR."),
	       MG_VERDICT_DANGEROUS, "pickle.call.computed");
}
END_TEST

START_TEST(test_pickle_unknown_call_outranks_unknown_and_yields_to_error)
{
	struct mg_report *r = scan(S("cfoo\nbar\n(tR\x01"));

	/* the call, then an opcode the loader rejects: error is the
	 * verdict, and the call is still a class the report has */
	ck_assert_int_eq(r->verdict, MG_VERDICT_ERROR);
	ck_assert(r->seen & (1u << MG_VERDICT_UNKNOWN_CALL));
	ck_assert(has_rule(r, "pickle.call.unknown"));
	mg_report_free(r);
}
END_TEST

/* ---- enum members: getattr(Class, "NAME") --------------------------------- */

#define GA2 "\x80\x02" "c__builtin__\ngetattr\n"
#define COLOR "cenumlib\nColor\n"
#define RED "X\x03\x00\x00\x00" "RED"
#define BLUE "X\x04\x00\x00\x00" "BLUE"

/* 1 if @r has a finding of @rule naming @g. */
static int
has_finding(const struct mg_report *r, const char *rule, const char *g)
{
	size_t i;

	for (i = 0; i < r->nfindings; i++)
		if (strcmp(r->findings[i].rule, rule) == 0 &&
		    r->findings[i].global != NULL &&
		    strcmp(r->findings[i].global, g) == 0)
			return 1;
	return 0;
}

/* 1 if (@m, @n) is in @r's globals at all. */
static int
lists_global(const struct mg_report *r, const char *m, const char *n)
{
	size_t i;

	for (i = 0; i < r->nglobals; i++)
		if (strcmp(r->globals[i].module, m) == 0 &&
		    strcmp(r->globals[i].name, n) == 0)
			return 1;
	return 0;
}

START_TEST(test_pickle_enum_member_getattr_is_the_dotted_global)
{
	/* pickle.dumps(member, protocol=p) on Python 3.11+: protocol 0,
	 * 2 (__builtin__ getattr, mapped) and 4 (builtins getattr by
	 * STACK_GLOBAL); then one memoised getattr for two members. */
	static const struct { const uint8_t *s; size_t n; } p[] = {
		{ S("c__builtin__\ngetattr\n(" COLOR "VRED\ntR.") },
		{ S(GA2 COLOR RED "\x86R.") },
		{ S("\x80\x04\x8c\x08" "builtins\x8c\x07" "getattr\x93\x8c\x07"
		    "enumlib\x8c\x05" "Color\x93\x8c\x03" "RED\x86R.") },
		{ S("\x80\x02(c__builtin__\ngetattr\nq\x00" COLOR RED "\x86R"
		    "h\x00" COLOR RED "\x86Rl.") },
	};
	struct mg_report *r = scan(p[_i].s, p[_i].n);

	ck_assert_msg(r->verdict == MG_VERDICT_CLEAN, "%d: %s (%s)", _i,
	              mg_verdict_name(r->verdict), r->nfindings ?
	              r->findings[0].message : "");
	/* getattr as find_class resolved it, clean since its use was
	 * taken; the member is no find_class pair, so it is not listed. */
	ck_assert(has_global(r, "builtins", "getattr", MG_VERDICT_CLEAN));
	ck_assert(has_global(r, "enumlib", "Color", MG_VERDICT_CLEAN));
	ck_assert(!lists_global(r, "enumlib", "Color.RED"));
	mg_report_free(r);
}
END_TEST

START_TEST(test_pickle_enum_member_is_judged_like_a_dotted_name)
{
	struct mg_report *r;

	/* A member no list names: unknown, named as the dotted global. */
	r = scan(S(GA2 COLOR BLUE "\x86R."));
	ck_assert_int_eq(r->verdict, MG_VERDICT_UNKNOWN);
	ck_assert(has_finding(r, "pickle.global.unknown", "enumlib Color.BLUE"));
	mg_report_free(r);
	/* A member of an unknown class. */
	r = scan(S(GA2 "cfoo\nBar\n" RED "\x86R."));
	ck_assert_int_eq(r->verdict, MG_VERDICT_UNKNOWN);
	ck_assert(has_finding(r, "pickle.global.unknown", "foo Bar.RED"));
	mg_report_free(r);
	/* getattr(collections.os, "system") is collections os.system,
	 * which reaches the denied os system (dotted_denied). */
	r = scan(S(GA2 "ccollections\nos\nX\x06\x00\x00\x00" "system\x86R."));
	ck_assert_int_eq(r->verdict, MG_VERDICT_DANGEROUS);
	ck_assert(has_finding(r, "pickle.global.denied",
	                      "collections os.system"));
	mg_report_free(r);
}
END_TEST

START_TEST(test_pickle_enum_member_value_is_a_global)
{
	/* Called: a call of the dotted global, judged as such. */
	expect(S(GA2 COLOR RED "\x86RK\x01\x85R."), MG_VERDICT_CLEAN, NULL);
	assert_unknown_call(scan(S(GA2 COLOR BLUE "\x86RK\x01\x85R.")),
	                    "enumlib Color.BLUE", "allow = enumlib:Color.BLUE");
	/* State set on it or mutating it acts on a global. */
	expect(S(GA2 COLOR RED "\x86R}b."), MG_VERDICT_DANGEROUS,
	       "pickle.build.global");
	expect(S(GA2 COLOR RED "\x86RK\x01" "a."), MG_VERDICT_DANGEROUS,
	       "pickle.mutate.global");
}
END_TEST

/* Every other use of builtins.getattr stays denied. */
static const struct { const char *s; size_t n; const char *why; }
getattr_other[] = {
#define NO(lit, why) { lit, sizeof(lit) - 1, why }
	NO(GA2 COLOR "ccollections\nOrderedDict\n)R\x86R.",
	   "attribute computed at load time"),
	NO(GA2 "ccollections\nOrderedDict\n)R" RED "\x86R.",
	   "attribute of a call result"),
	NO(GA2 "X\x01\x00\x00\x00" "x" RED "\x86R.", "attribute of a str"),
	NO(GA2 COLOR "X\x09\x00\x00\x00__class__\x86R.", "dunder attribute"),
	NO(GA2 COLOR "X\x02\x00\x00\x00__\x86R.", "underscores only"),
	NO(GA2 COLOR "X\x05\x00\x00\x00RED.x\x86R.", "dotted attribute"),
	NO(GA2 COLOR "X\x00\x00\x00\x00\x86R.", "empty attribute"),
	NO(GA2 COLOR "X\x04\x00\x00\x00R\xc3\x89" "D\x86R.",
	   "non-ASCII attribute"),
	NO(GA2 COLOR "U\x03RED\x86R.", "Python 2 string attribute"),
	NO(GA2 COLOR RED "N\x87R.", "getattr with a default"),
	NO(GA2 COLOR "\x85R.", "one argument"),
	NO(GA2 "c__builtin__\ngetattr\n" RED "\x86R.", "attribute of getattr"),
	NO("(c__builtin__\ngetattr\n" COLOR "VRED\no.", "OBJ"),
	NO(GA2 COLOR RED "\x86\x81.", "NEWOBJ"),
	NO(GA2 "\x85.", "passed as a value"),
	NO(GA2 ".", "returned itself"),
	NO(GA2 "0N.", "popped, never called"),
	NO(GA2 "}b.", "BUILD on getattr"),
	NO(GA2 COLOR RED "\x86", "stream ends before REDUCE"),
	NO("\x80\x02(c__builtin__\ngetattr\nq\x00" COLOR RED "\x86R" "h\x00"
	   "ccollections\nOrderedDict\n)R" RED "\x86Rl.",
	   "one exact use, then on a call result"),
	NO("\x80\x02(c__builtin__\ngetattr\nq\x00" COLOR RED "\x86R"
	   "h\x00\x85l.", "one exact use, then inside a tuple"),
	NO("\x80\x02(c__builtin__\ngetattr\nq\x00\x85h\x00" COLOR RED
	   "\x86Rl.", "inside a tuple, then one exact use"),
	NO("\x80\x02" "ctorch._tensor\n_rebuild_from_type_v2\n"
	   "(c__builtin__\ngetattr\n" COLOR "(" COLOR RED "t}tR.",
	   "called by a helper that calls its argument"),
#undef NO
};
#define GETATTR_OTHER_N \
	((int)(sizeof(getattr_other) / sizeof(getattr_other[0])))

START_TEST(test_pickle_getattr_other_uses_stay_denied)
{
	struct mg_report *r = scan(getattr_other[_i].s, getattr_other[_i].n);

	ck_assert_msg(r->verdict == MG_VERDICT_DANGEROUS, "%s: %s",
	              getattr_other[_i].why, mg_verdict_name(r->verdict));
	ck_assert_msg(has_finding(r, "pickle.global.denied",
	                          "builtins getattr"), "%s: not denied",
	              getattr_other[_i].why);
	ck_assert_msg(has_global(r, "builtins", "getattr",
	                         MG_VERDICT_DANGEROUS), "%s: getattr not "
	              "recorded dangerous", getattr_other[_i].why);
	mg_report_free(r);
}
END_TEST

/* ---- BUILD slot state that can never be a dict ---------------------------- */

#define OD "ccollections\nOrderedDict\n)R"
/* numpy's ndarray pickle: _reconstruct(ndarray, (0,), b"b"), BUILD. */
#define ARR(mod) "c" mod "\n_reconstruct\ncnumpy\nndarray\nK\x00\x85" \
	"C\x01" "b\x87R}b"
#define DT "cnumpy\ndtype\nX\x02\x00\x00\x00" "f8\x85R"

START_TEST(test_pickle_build_slot_state_of_a_numpy_array_is_data)
{
	/* The loader raises "slot state is not a dictionary" before any
	 * setattr (or hands the tuple to __setstate__): no attribute. */
	expect(S("\x80\x02" OD "N" ARR("numpy._core.multiarray") "\x86" "b."),
	       MG_VERDICT_CLEAN, NULL);
	expect(S("\x80\x02" OD "N" ARR("numpy.core.multiarray") "\x86" "b."),
	       MG_VERDICT_CLEAN, NULL);
	/* pandas' NDArrayBacked state: (dtype, ndarray). */
	expect(S("\x80\x02" OD DT ARR("numpy._core.multiarray") "\x86" "b."),
	       MG_VERDICT_CLEAN, NULL);
	/* joblib's array wrapper, which pandas 3 frames dumped by joblib
	 * hold in their (dtype, ndarray) states: a plain class, and
	 * joblib.load puts an ndarray in its place. */
	expect(S("\x80\x02" OD DT "cjoblib.numpy_pickle\nNumpyArrayWrapper\n"
	         ")\x81}b\x86" "b."), MG_VERDICT_CLEAN, NULL);
	/* _frombuffer(buf, dtype, shape, order), numpy's protocol-5 form. */
	expect(S("\x80\x02" OD "Ncnumpy._core.numeric\n_frombuffer\n(C\x01"
	         "x" DT "K\x01\x85X\x01\x00\x00\x00" "CtR\x86" "b."),
	       MG_VERDICT_CLEAN, NULL);
}
END_TEST

START_TEST(test_pickle_build_slot_state_of_other_calls_stays_dangerous)
{
	/* numpy's scalar(dtype("O"), obj) returns obj: a dict if it is. */
	expect(S("\x80\x02" OD "Ncnumpy._core.multiarray\nscalar\n"
	         "cnumpy\ndtype\nX\x01\x00\x00\x00O\x85R}\x86R\x86" "b."),
	       MG_VERDICT_DANGEROUS, "pickle.build.setattr");
	/* A lookalike name, and the exact function reached by a dotted
	 * name (on no list): not the table's exact pairs. */
	expect(S("\x80\x02" OD "N" ARR("foo") "\x86" "b."),
	       MG_VERDICT_DANGEROUS, "pickle.build.setattr");
	expect(S("\x80\x04" OD "Ncnumpy\n_core.multiarray._reconstruct\n"
	         "cnumpy\nndarray\nK\x00\x85" "C\x01" "b\x87R\x86" "b."),
	       MG_VERDICT_DANGEROUS, "pickle.build.setattr");
	/* A call of an allowed class that could return anything. */
	expect(S("\x80\x02" OD "N" OD "\x86" "b."), MG_VERDICT_DANGEROUS,
	       "pickle.build.setattr");
}
END_TEST

/* ---- rebuild-only globals (MG_GLOBAL_REBUILD) ----------------------------- */

START_TEST(test_pickle_rebuild_only_global_rebuilt_or_pushed_is_clean)
{
	static const struct { const uint8_t *s; size_t n; } p[] = {
		{ S("\x80\x02" "crb\nCfg\n.") },
		{ S("\x80\x02" "crb\nCfg\n)\x81}X\x01\x00\x00\x00" "aK\x01sb.") },
		{ S("\x80\x04\x8c\x02rb\x8c\x03" "Cfg\x93)}\x92.") },
		{ S("ccopy_reg\n_reconstructor\n(crb\nCfg\nc__builtin__\n"
		    "object\nNtR(dS'a'\nI1\nsb.") },
	};
	struct mg_report *r = scan_rebuild(p[_i].s, p[_i].n);

	ck_assert_msg(r->verdict == MG_VERDICT_CLEAN, "%d: %s (%s)", _i,
	              mg_verdict_name(r->verdict), r->nfindings ?
	              r->findings[0].message : "");
	ck_assert(has_global(r, "rb", "Cfg", MG_VERDICT_CLEAN));
	mg_report_free(r);
}
END_TEST

static const struct { const char *s; size_t n; const char *why; }
rebuild_called[] = {
#define CALL(lit, why) { lit, sizeof(lit) - 1, why }
	CALL("\x80\x02" "crb\nCfg\nX\x01\x00\x00\x00" "x\x85R.",
	     "REDUCE with arguments"),
	CALL("\x80\x02" "crb\nCfg\n)R.", "REDUCE with none"),
	CALL("\x80\x02" "crb\nCfg\nK\x01\x85\x81.", "NEWOBJ with arguments"),
	CALL("\x80\x04\x8c\x02rb\x8c\x03" "Cfg\x93)}\x8c\x01kK\x01s\x92.",
	     "NEWOBJ_EX with kwargs"),
	CALL("(crb\nCfg\no.", "OBJ"),
	CALL("(irb\nCfg\n.", "INST"),
	CALL("ccopy_reg\n_reconstructor\n(crb\nCfg\ncrb\nCfg\nS'st'\ntR.",
	     "copyreg._reconstructor's base"),
	CALL("\x80\x02" "cnumpy.random._pickle\n__bit_generator_ctor\n"
	     "crb\nCfg\n\x85R.", "numpy's __bit_generator_ctor calls it"),
	CALL("\x80\x02" "ctorch._tensor\n_rebuild_from_type_v2\n"
	     "(crb\nCfg\ncrb\nCfg\n)}tR.", "_rebuild_from_type_v2 calls it"),
#undef CALL
};
#define REBUILD_CALLED_N \
	((int)(sizeof(rebuild_called) / sizeof(rebuild_called[0])))

START_TEST(test_pickle_rebuild_only_global_called_is_an_unknown_call)
{
	struct mg_report *r = scan_rebuild(rebuild_called[_i].s,
	                                   rebuild_called[_i].n);
	size_t i;
	int said = 0;

	for (i = 0; i < r->nfindings; i++)
		if (strstr(r->findings[i].message, "may be rebuilt but not "
		           "called") != NULL)
			said = 1;
	ck_assert_msg(said, "%s: message does not say why",
	              rebuild_called[_i].why);
	assert_unknown_call(r, "rb Cfg", "allow = rb:Cfg");
}
END_TEST

START_TEST(test_pickle_bit_generator_ctor_calls_its_class_argument)
{
	/* numpy 1.24 writes the name, numpy 2 the class. */
	expect(S("\x80\x02" "cnumpy.random._pickle\n__bit_generator_ctor\n"
	         "X\x07\x00\x00\x00MT19937\x85R."), MG_VERDICT_CLEAN, NULL);
	expect(S("\x80\x02" "cnumpy.random._pickle\n__bit_generator_ctor\n"
	         "cnumpy.random._mt19937\nMT19937\n\x85R."), MG_VERDICT_CLEAN,
	       NULL);
	/* An unknown class: the helper runs cls(), a call like REDUCE of cls
	 * with an empty tuple, so an unknown call. */
	expect(S("\x80\x02" "cnumpy.random._pickle\n__bit_generator_ctor\n"
	         "cfoo\nBar\n\x85R."), MG_VERDICT_UNKNOWN_CALL,
	       "pickle.call.unknown");
	expect(S("\x80\x02" "cnumpy.random._pickle\n__bit_generator_ctor\n"
	         OD "\x85R."), MG_VERDICT_DANGEROUS, "pickle.call.computed");
}
END_TEST

static Suite *
pickle_suite(void)
{
	Suite *s = suite_create("pickle");
	TCase *t;

	t = tcase_create("opcodes");
	tcase_add_loop_test(t, test_pickle_plain_data_is_clean_in_every_protocol,
	                    0, 6);
	tcase_add_loop_test(t,
	    test_pickle_every_prefix_of_a_pickle_is_never_clean, 0, 3);
	tcase_add_test(t, test_pickle_int_text_forms_and_booleans_parse);
	tcase_add_test(t, test_pickle_rejects_unknown_opcode_and_proto_6);
	tcase_add_test(t, test_pickle_string_escapes_decode_like_the_loader);
	tcase_add_test(t, test_pickle_rejects_bad_quoting_and_bad_escapes);
	tcase_add_test(t, test_pickle_counted_strings_and_bytes);
	tcase_add_test(t, test_pickle_rejects_truncated_binunicode);
	tcase_add_test(t, test_pickle_huge_lengths_fail_without_allocating);
	tcase_add_test(t, test_pickle_stack_global_rejects_non_str_operands);
	tcase_add_test(t, test_pickle_stack_global_operand_never_a_name);
	tcase_add_test(t, test_pickle_memo_round_trip_feeds_stack_global);
	tcase_add_test(t, test_pickle_memo_overwrite_is_followed);
	tcase_add_test(t, test_pickle_rejects_memo_miss_and_bad_memo_ids);
	tcase_add_test(t, test_pickle_put_on_empty_stack_is_an_error);
	tcase_add_test(t, test_pickle_stack_underflow_and_mark_errors);
	suite_add_tcase(s, t);

	t = tcase_create("normalisation");
	tcase_add_test(t, test_pickle_maps_python2_names_below_protocol_3);
	tcase_add_test(t, test_pickle_keeps_python2_names_from_protocol_3);
	tcase_add_test(t, test_pickle_proto_seen_mid_stream_changes_normalisation);
	tcase_add_test(t, test_pickle_dotted_names_are_split_and_checked);
	tcase_add_test(t, test_pickle_dunder_names_are_never_allowed);
	tcase_add_test(t, test_pickle_classifies_allowed_unknown_denied);
	tcase_add_test(t, test_pickle_rejects_bad_global_lines);
	suite_add_tcase(s, t);

	t = tcase_create("structure");
	tcase_add_test(t, test_pickle_ext_opcodes_are_dangerous);
	tcase_add_test(t, test_pickle_calling_a_call_result_is_dangerous);
	tcase_add_test(t, test_pickle_build_on_a_global_is_dangerous);
	tcase_add_test(t, test_pickle_build_slot_state_rules);
	tcase_add_test(t, test_pickle_dotted_name_reaching_a_denied_pair);
	tcase_add_test(t, test_pickle_mutating_a_global_is_dangerous);
	tcase_add_test(t, test_pickle_stack_ops_below_a_mark_are_rejected);
	tcase_add_test(t, test_pickle_frame_overrun_is_dangerous);
	tcase_add_test(t, test_pickle_persid_is_not_dangerous_by_itself);
	tcase_add_test(t, test_pickle_next_buffer_is_an_error);
	suite_add_tcase(s, t);

	t = tcase_create("calls");
	tcase_add_test(t, test_pickle_reduce_of_unknown_with_args_is_an_unknown_call);
	tcase_add_test(t, test_pickle_reduce_of_unknown_with_no_args_is_still_a_call);
	tcase_add_test(t, test_pickle_newobj_empty_args_and_build_is_an_unknown_object);
	tcase_add_test(t, test_pickle_newobj_with_args_is_an_unknown_call);
	tcase_add_test(t, test_pickle_newobj_ex_with_args_or_kwargs_is_an_unknown_call);
	tcase_add_test(t, test_pickle_obj_and_inst_of_unknown_are_calls_even_without_args);
	tcase_add_test(t, test_pickle_copyreg_reconstructor_rebuilds_an_unknown_object);
	tcase_add_test(t, test_pickle_calls_of_allowed_or_denied_globals_are_not_unknown_calls);
	tcase_add_loop_test(t, test_pickle_call_and_object_in_every_protocol, 0,
	                    (int)(sizeof(call_variants) / sizeof(call_variants[0])));
	tcase_add_test(t, test_pickle_unknown_call_outranks_unknown_and_yields_to_error);
	tcase_add_test(t, test_pickle_call_results_stay_computed_through_memo_build_helpers);
	tcase_add_test(t, test_pickle_bit_generator_ctor_calls_its_class_argument);
	suite_add_tcase(s, t);

	t = tcase_create("enum_members");
	tcase_add_loop_test(t, test_pickle_enum_member_getattr_is_the_dotted_global,
	                    0, 4);
	tcase_add_test(t, test_pickle_enum_member_is_judged_like_a_dotted_name);
	tcase_add_test(t, test_pickle_enum_member_value_is_a_global);
	tcase_add_loop_test(t, test_pickle_getattr_other_uses_stay_denied, 0,
	                    GETATTR_OTHER_N);
	suite_add_tcase(s, t);

	t = tcase_create("slot_state");
	tcase_add_test(t, test_pickle_build_slot_state_of_a_numpy_array_is_data);
	tcase_add_test(t, test_pickle_build_slot_state_of_other_calls_stays_dangerous);
	suite_add_tcase(s, t);

	t = tcase_create("rebuild_only");
	tcase_add_loop_test(t, test_pickle_rebuild_only_global_rebuilt_or_pushed_is_clean,
	                    0, 4);
	tcase_add_loop_test(t, test_pickle_rebuild_only_global_called_is_an_unknown_call,
	                    0, REBUILD_CALLED_N);
	suite_add_tcase(s, t);

	t = tcase_create("fail_closed");
	tcase_add_test(t, test_pickle_error_keeps_earlier_findings);
	tcase_add_test(t, test_pickle_stack_and_memo_caps_are_findings);
	tcase_add_test(t, test_pickle_long_names_are_a_finding);
	tcase_add_test(t, test_pickle_deep_nesting_is_released_without_recursion);
	tcase_add_test(t, test_pickle_distinct_globals_are_capped);
	tcase_add_test(t, test_pickle_empty_input_is_an_error);
	suite_add_tcase(s, t);

	t = tcase_create("stacked");
	tcase_add_test(t, test_pickle_stacked_pickles_are_all_scanned);
	tcase_add_test(t, test_pickle_trailing_bytes_are_inert_or_scanned);
	tcase_add_test(t, test_pickle_too_many_stacked_pickles_is_a_limit);
	tcase_add_test(t, test_pickle_scan_one_reports_end_after_stop);
	suite_add_tcase(s, t);

	t = tcase_create("hooks");
	tcase_add_test(t, test_pickle_on_build_skip_steps_over_raw_bytes);
	tcase_add_test(t, test_pickle_on_build_in_frame_skips_at_frame_end);
	tcase_add_test(t, test_pickle_on_build_nested_pickle_is_scanned);
	tcase_add_test(t, test_pickle_on_build_rejects_skip_past_end);
	tcase_add_test(t, test_pickle_on_persid_sees_every_pid);
	tcase_add_test(t, test_pickle_nested_load_exact_shape_is_scanned);
	tcase_add_test(t, test_pickle_nested_load_payload_is_dangerous);
	tcase_add_loop_test(t, test_pickle_nested_load_other_shapes_denied, 0,
	                    NESTED_OTHER_N);
	suite_add_tcase(s, t);

	t = tcase_create("sniff");
	tcase_add_test(t, test_pickle_sniff_accepts_real_stream_starts);
	tcase_add_test(t, test_pickle_sniff_rejects_text);
	suite_add_tcase(s, t);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(pickle_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
