// One database transaction as a scope: BEGIN when made, ROLLBACK when it goes out of scope
// uncommitted. Internal to the store module; each backend's connection class supplies the
// three statements, which differ (SQLite's BEGIN IMMEDIATE, PostgreSQL's check for an
// aborted transaction before COMMIT), and this class the ownership rules, once:
//
//   class Connection {
//     friend class store::Transaction<Connection>;
//     core::Result<void> begin_transaction();
//     core::Result<void> commit_transaction();  // ends the transaction, committed or not
//     void rollback_transaction();              // best effort: errors are not reported
//   };
#pragma once

#include <utility>

#include "core/result.h"

namespace glidepath::store {

template <typename Connection>
class Transaction {
 public:
  static core::Result<Transaction> begin(Connection& connection) {
    auto begun = connection.begin_transaction();
    if (!begun) return core::Failure{begun.error()};
    return Transaction(connection);
  }
  Transaction(Transaction&& other) noexcept
      : connection_(std::exchange(other.connection_, nullptr)) {}
  Transaction& operator=(Transaction&&) = delete;
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  ~Transaction() { rollback(); }

  core::Result<void> commit() {
    Connection* connection = std::exchange(connection_, nullptr);
    if (connection == nullptr) return core::fail("internal error: the transaction already ended");
    return connection->commit_transaction();
  }
  // Ends the transaction now, for instance after a failed statement, so the connection can
  // be used again for a read that explains the failure.
  void rollback() {
    if (Connection* connection = std::exchange(connection_, nullptr)) {
      connection->rollback_transaction();
    }
  }

 private:
  explicit Transaction(Connection& connection) : connection_(&connection) {}
  Connection* connection_;  // null once committed, rolled back or moved from
};

}  // namespace glidepath::store
