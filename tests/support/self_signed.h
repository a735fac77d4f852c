#pragma once
// Writes a fresh self-signed certificate for 127.0.0.1 (and its key) as PEM
// files into a new temporary directory, for TLS tests.

#include <string>

namespace tollgate::test {

struct CertFiles {
  std::string dir;
  std::string cert_file;
  std::string key_file;
};

CertFiles make_self_signed_cert();

}  // namespace tollgate::test
