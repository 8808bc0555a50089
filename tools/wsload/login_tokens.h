// Login tokens for a wspush running --auth jwt: one per connection (sub u<index>), minted
// before the run starts so that signing costs nothing inside the measured connect phase.
//
// Return contract: mint_login_tokens() fills o.tokens (index = connection) and returns true,
// or returns false with *error set. Nothing to do (no token option): true, o.tokens empty.
#pragma once
#include <string>

#include "tools/wsload/load_options.h"

namespace wsload {

bool mint_login_tokens(LoadOptions& o, std::string* error);

}  // namespace wsload
