// An Asio ssl::context over a ServerContext's handshake SSL_CTX, for the listeners that
// run on Asio (the gateway's workers, the admin API). Asio's context takes ownership of the
// SSL_CTX it wraps and frees it when it goes, so it gets a reference of its own; the
// ServerContext keeps the other. Only Asio users include this header.
#pragma once

#include <openssl/ssl.h>

#include <boost/asio/ssl/context.hpp>
#include <memory>

#include "tls/server_context.h"

namespace glidepath::tls {

inline std::unique_ptr<boost::asio::ssl::context> asio_context(const ServerContext& server) {
  SSL_CTX* handle = server.handshake_context();
  SSL_CTX_up_ref(handle);
  return std::make_unique<boost::asio::ssl::context>(handle);
}

}  // namespace glidepath::tls
