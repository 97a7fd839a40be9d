# Sources of the store, relative to server/ (owned by the store; see store.hpp).
set(VALISE_SERVER_STORE_SOURCES
)
