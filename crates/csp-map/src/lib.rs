//! `ShardedMap`: a concurrent hash map for threads and async tasks, split into power-of-two
//! shards, each a hash table behind a csp-sync [`RwLock`](csp_sync::RwLock).
//!
//! A key's hash picks its shard, so operations on different shards never wait for each other
//! and readers of one shard share it. The API is a `HashMap`'s through `&self` (`get`,
//! `insert`, `remove`, `entry`, `retain`, `iter`, ...) plus Go's `sync.Map` names (`load`,
//! `store`, `load_or_store`, `load_and_delete`, `swap`, `compare_and_swap`,
//! `compare_and_delete`, `range`). [`ShardedMap`]'s docs list which calls hold which shard
//! lock and for how long.
//!
//! Compared with Go's `sync.Map`, which is tuned for keys written once and read many times,
//! a sharded map is steady under any mix of reads and writes, and gives typed keys and values,
//! in-place updates (`get_mut`, `update`, `entry`) and a length.
//!
//! # Example
//!
//! ```
//! use csp_map::ShardedMap;
//!
//! let sessions: ShardedMap<u64, String> = ShardedMap::new();
//! sessions.store(7, "ann".into());
//! let (who, loaded) = sessions.load_or_store(7, "bob".into());
//! assert_eq!((who.as_str(), loaded), ("ann", true));
//! sessions.entry(8).or_insert_with(|| "cy".into()).push('!');
//! assert_eq!(sessions.load(&8).as_deref(), Some("cy!"));
//! ```

mod entry;
mod iter;
mod map;
mod refs;

pub use entry::{Entry, OccupiedEntry, VacantEntry};
pub use iter::{IntoIter, Iter};
pub use map::ShardedMap;
pub use refs::{Ref, RefMulti, RefMut};
