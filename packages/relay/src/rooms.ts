import { Room, type RoomLimits } from './room.js';

/** All rooms on this node. A room is created on first use and forgotten after a grace period once empty. */
export class Rooms {
  private readonly rooms = new Map<string, Room>();

  constructor(
    private readonly limits: RoomLimits,
    private readonly graceMs: number,
  ) {}

  get size(): number {
    return this.rooms.size;
  }

  get(id: string): Room | undefined {
    return this.rooms.get(id);
  }

  open(id: string): Room {
    let room = this.rooms.get(id);
    if (!room) {
      room = new Room(id, this.limits);
      this.rooms.set(id, room);
    }
    if (room.graceTimer) {
      clearTimeout(room.graceTimer);
      room.graceTimer = undefined;
    }
    return room;
  }

  /** Call after a socket left: an empty room is kept for the grace period (so a reconnect finds its cache), then dropped. */
  release(room: Room): void {
    if (!room.empty || room.graceTimer) return;
    room.graceTimer = setTimeout(() => {
      if (room.empty && this.rooms.get(room.id) === room) {
        room.dispose();
        this.rooms.delete(room.id);
      }
    }, this.graceMs);
    room.graceTimer.unref();
  }

  /** Forgets a room at once (session ended). */
  delete(room: Room): void {
    room.dispose();
    if (this.rooms.get(room.id) === room) this.rooms.delete(room.id);
  }

  [Symbol.iterator](): IterableIterator<Room> {
    return this.rooms.values();
  }
}
