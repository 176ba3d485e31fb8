// Text that came from elsewhere (the ledger, a peer, a registry entry), made safe to print
// on an operator's or resident's terminal.
//
// A record's purpose or user name is chosen by whoever sent the request. Printed raw, an
// escape sequence in it can rewrite the screen, a newline can forge a whole line of output
// ("✓ ... verified"), and a bidi override can make "gov" read as "vog". EscapeForTerminal
// keeps what a reader needs to see — printable ASCII and printable UTF-8 such as 齋藤 —
// and spells out everything else. Thread-safe (pure).
#ifndef RENKEI_COMMON_TERMINAL_TEXT_H_
#define RENKEI_COMMON_TERMINAL_TEXT_H_

#include <string>

#include "absl/strings/string_view.h"

namespace renkei {

// Returns `text` with
//   - each byte that is not part of valid UTF-8 (stray, truncated, overlong, surrogate,
//     beyond U+10FFFF), each C0 control (tab and newline included) and DEL as \xNN,
//   - C1 controls (U+0080–U+009F), bidi controls (U+061C, U+200E, U+200F, U+202A–U+202E,
//     U+2066–U+2069), other invisible format characters (U+200B, U+2060–U+206F, U+FEFF,
//     U+FFF9–U+FFFB, tags U+E0000–U+E007F), line and paragraph separators (U+2028,
//     U+2029) and the noncharacters U+FFFE, U+FFFF as \u{XXXX},
//   - a backslash as \\, so that the output is unambiguous: "\x1b" in the output is always
//     an escaped ESC, never the four characters the sender typed.
// Everything else passes unchanged.
//
//   EscapeForTerminal("齋藤\x1b[2J") == "齋藤\\x1b[2J"
std::string EscapeForTerminal(absl::string_view text);

}  // namespace renkei

#endif  // RENKEI_COMMON_TERMINAL_TEXT_H_
