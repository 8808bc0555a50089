// The page served at GET / on the WebSocket port: how a person first tries wspush.
#pragma once
#include <string_view>

namespace wspush::server {

std::string_view demo_page_html();

}  // namespace wspush::server
